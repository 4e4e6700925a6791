"""A local stand-in for Stripe's API, spoken to by the real stripe SDK over HTTP.

It answers the calls Zbor makes (create a Checkout Session, retrieve a PaymentIntent with its
charge's balance transaction, create and retrieve a Refund; subscriptions, customers and invoices
in tests/fake_stripe_billing.py, as ``fake.billing``) and records every request for the test to
inspect. Refunds behave as Stripe's do: at most what the charge has not refunded yet
(else HTTP 400 ``amount_too_large``, or ``charge_already_refunded`` once nothing is left), an
unknown PaymentIntent is ``resource_missing``, and a request sent again with the same
``Idempotency-Key`` gets the first answer back (with other parameters: ``idempotency_error``).
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from tests.fake_stripe_billing import Billing

FEE = 98


class FakeStripe:
    def __init__(self):
        self.requests: list[dict] = []
        self.sessions: dict[str, dict] = {}
        self.fail_next = False
        #: The next GET is refused (``fail_next`` refuses the next POST or DELETE).
        self.fail_next_read = False
        #: Added to every charge returned, e.g. the ``billing_details`` a real charge carries.
        self.charge_fields: dict = {}
        #: PaymentIntent id → its charge: {"id", "amount", "currency", "amount_refunded"}.
        self.payments: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        #: Idempotency key → (the parameters, the HTTP status and body first answered).
        self.idempotent: dict[str, tuple[dict, int, dict]] = {}
        #: The status new refunds get ("pending" for a refund that settles later, "failed").
        self.refund_status = "succeeded"
        #: How many of the next POST requests get no answer at all (the connection is closed).
        self.drop_next = 0
        #: How many of the next refunds are made but their answer lost (the connection closed).
        self.lose_answer_next = 0
        self.billing = Billing(self)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_fake")
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                fake.requests.append(
                    {"method": "POST", "path": self.path, "form": form, "headers": dict(self.headers)}
                )
                if fake.drop_next:
                    fake.drop_next -= 1
                    self.close_connection = True
                    return None  # no status line: the SDK sees a network error
                if fake.fail_next:
                    fake.fail_next = False
                    return self._reply(402, {"error": {"type": "invalid_request_error", "message": "refused"}})
                if self.path == "/v1/refunds":
                    key = self.headers.get("Idempotency-Key", "")
                    params = {k: v[0] for k, v in form.items()}
                    if key in fake.idempotent:
                        first, status, body = fake.idempotent[key]
                        if first != params:
                            return self._reply(
                                400,
                                _error(
                                    "idempotency_error",
                                    "Keys for idempotent requests can only be used with the same parameters they were first used with.",
                                ),
                            )
                        return self._reply(status, body)
                    status, body = fake.create_refund(params)
                    if key:
                        fake.idempotent[key] = (params, status, body)
                    if fake.lose_answer_next:
                        fake.lose_answer_next -= 1
                        self.close_connection = True
                        return None
                    return self._reply(status, body)
                if self.path == "/v1/checkout/sessions":
                    key = self.headers.get("Idempotency-Key", "")
                    session = next((s for s in fake.sessions.values() if s["_key"] == key), None)
                    if session is None:
                        n = len(fake.sessions) + 1
                        session = {
                            "id": f"cs_test_{n}",
                            "object": "checkout.session",
                            "url": f"https://checkout.stripe.test/pay/cs_test_{n}",
                            "amount_total": int(form["line_items[0][price_data][unit_amount]"][0]),
                            "currency": form["line_items[0][price_data][currency]"][0],
                            "payment_status": "unpaid",
                            "payment_intent": None,
                            "mode": form["mode"][0],
                            "status": "open",
                            "subscription": None,
                            "customer": None,
                            "customer_details": None,
                            "_key": key,
                            "_form": form,
                            "_subscription_metadata": {
                                k[len("subscription_data[metadata][") : -1]: v[0]
                                for k, v in form.items()
                                if k.startswith("subscription_data[metadata][")
                            },
                        }
                        fake.sessions[session["id"]] = session
                    return self._reply(200, {k: v for k, v in session.items() if not k.startswith("_")})
                billed = fake.billing.answer("POST", self.path, form)
                if billed is not None:
                    return self._reply(*billed)
                return self._reply(404, {"error": {"type": "invalid_request_error", "message": "unknown"}})

            def do_DELETE(self):
                fake.requests.append({"method": "DELETE", "path": self.path, "headers": dict(self.headers)})
                if fake.fail_next:
                    fake.fail_next = False
                    return self._reply(402, {"error": {"type": "invalid_request_error", "message": "refused"}})
                billed = fake.billing.answer("DELETE", self.path, {})
                return self._reply(*(billed or (404, _error("resource_missing", "unknown"))))

            def do_GET(self):
                fake.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
                if fake.fail_next_read:
                    fake.fail_next_read = False
                    return self._reply(402, {"error": {"type": "invalid_request_error", "message": "refused"}})
                billed = fake.billing.answer("GET", self.path, {})
                if billed is not None:
                    return self._reply(*billed)
                if self.path.startswith("/v1/refunds/"):
                    refund = fake.refunds.get(self.path.split("/")[3].split("?")[0])
                    if refund is None:
                        return self._reply(404, _error("resource_missing", "No such refund", param="id"))
                    return self._reply(200, refund)
                if self.path.startswith("/v1/payment_intents/"):
                    pi = self.path.split("/")[3].split("?")[0]
                    charge = "ch_" + pi[3:]
                    return self._reply(
                        200,
                        {
                            "id": pi,
                            "object": "payment_intent",
                            "latest_charge": {
                                "id": charge,
                                "object": "charge",
                                "balance_transaction": {
                                    "id": "txn_" + pi[3:],
                                    "object": "balance_transaction",
                                    "fee": FEE,
                                    "currency": "eur",
                                },
                                **fake.charge_fields,
                            },
                        },
                    )
                return self._reply(404, {"error": {"type": "invalid_request_error", "message": "unknown"}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def add_payment(self, payment_intent: str, amount: int, currency: str = "eur") -> dict:
        """A PaymentIntent that succeeded with a charge of ``amount``: what a refund can name."""
        charge = {"id": "ch_" + payment_intent[3:], "amount": amount, "currency": currency, "amount_refunded": 0}
        self.payments[payment_intent] = charge
        return charge

    def create_refund(self, params: dict) -> tuple[int, dict]:
        payment_intent = params.get("payment_intent", "")
        charge = self.payments.get(payment_intent)
        if charge is None:
            return 400, _error(
                "resource_missing", f"No such payment_intent: '{payment_intent}'", param="payment_intent"
            )
        left = charge["amount"] - charge["amount_refunded"]
        if left <= 0:
            return 400, _error("charge_already_refunded", f"Charge {charge['id']} has already been refunded.")
        amount = int(params.get("amount", left))
        if amount <= 0:
            return 400, _error("parameter_invalid_integer", "Invalid positive integer", param="amount")
        if amount > left:
            return 400, _error(
                "amount_too_large",
                f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                param="amount",
            )
        refund_id = f"re_test_{len(self.refunds) + 1}"
        status = self.refund_status
        refund = {
            "id": refund_id,
            "object": "refund",
            "amount": amount,
            "balance_transaction": "txn_" + refund_id[3:],
            "charge": charge["id"],
            "created": int(time.time()),
            "currency": charge["currency"],
            "metadata": {k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
            "payment_intent": payment_intent,
            "reason": params.get("reason"),
            "status": status,
            "failure_reason": "expired_or_canceled_card" if status == "failed" else None,
        }
        self.refunds[refund_id] = refund
        if status != "failed":
            charge["amount_refunded"] += amount
        return 200, refund

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _error(code: str, message: str, *, param: str = "") -> dict:
    """An error as Stripe's API answers it."""
    error = {"type": "invalid_request_error", "code": code, "message": message}
    if param:
        error["param"] = param
    return {"error": {**error, "doc_url": f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"}}


@contextmanager
def stripe_enabled(settings, webhook_secret: str):
    """Stripe as the donate form's first method, its SDK pointed at a FakeStripe (yielded)."""
    from zbor.payments import registry

    with FakeStripe() as fake:
        settings.ZBOR_PAYMENT_PROVIDERS = ["stripe", "bank", "demo"]
        settings.STRIPE_SECRET_KEY = "sk_test_fake"
        settings.STRIPE_WEBHOOK_SECRET = webhook_secret
        settings.STRIPE_API_BASE = fake.url
        registry._providers.cache_clear()
        try:
            yield fake
        finally:
            registry._providers.cache_clear()
