"""A local stand-in for Stripe's API, spoken to by the real stripe SDK over HTTP.

It answers the two calls Zbor makes (create a Checkout Session, retrieve a PaymentIntent with
its charge's balance transaction) and records every request for the test to inspect.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

FEE = 98


class FakeStripe:
    def __init__(self):
        self.requests: list[dict] = []
        self.sessions: dict[str, dict] = {}
        self.fail_next = False
        #: Added to every charge returned, e.g. the ``billing_details`` a real charge carries.
        self.charge_fields: dict = {}
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
                form = parse_qs(self.rfile.read(length).decode())
                fake.requests.append(
                    {"method": "POST", "path": self.path, "form": form, "headers": dict(self.headers)}
                )
                if fake.fail_next:
                    fake.fail_next = False
                    return self._reply(402, {"error": {"type": "invalid_request_error", "message": "refused"}})
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
                            "_key": key,
                        }
                        fake.sessions[session["id"]] = session
                    return self._reply(200, {k: v for k, v in session.items() if not k.startswith("_")})
                return self._reply(404, {"error": {"type": "invalid_request_error", "message": "unknown"}})

            def do_GET(self):
                fake.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers)})
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

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


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
