"""A local stand-in for a BTCPay Server store, spoken to over HTTP by zbor/payments/btcpay.py.

Written from BTCPay's published OpenAPI document (btcpayserver/btcpayserver,
BTCPayServer/wwwroot/swagger/v1/swagger.template.invoices.json and
swagger.template.webhooks.json): the Greenfield calls Zbor makes (create an invoice, get one,
list a store's invoices with ``orderId``/``status``/``skip``/``take``, an invoice's payment
methods), answered with the same field names and states:

    status            New → Processing (paid, unconfirmed) → Settled; or Expired; or Invalid
    additionalStatus  None, PaidPartial, PaidOver, PaidLate, Marked, Invalid

Test controls move an invoice as the blockchain and BTCPay's clock would (``pay``, ``settle``,
``expire``, ``invalidate``, ``mark_settled``), and ``webhook`` writes the delivery BTCPay would
send for it, signed as BTCPay signs (``BTCPay-Sig: sha256=<HMAC-SHA256 of the body>``). The
invoice's ``checkoutLink`` serves a plain checkout page linking back to its ``redirectURL``.
Every API request is recorded in ``requests`` for the test to inspect.

    with FakeBtcpay() as fake:              # or the ``btcpay`` fixture, which also configures Zbor
        ...donate €25 by Bitcoin...
        fake.pay(invoice_id)                # the whole amount, on-chain
        fake.settle(invoice_id)
        body, headers = fake.webhook(invoice_id, "InvoiceSettled")
        client.post("/webhooks/btcpay/", body, content_type="application/json", headers=headers)
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from contextlib import contextmanager
from decimal import ROUND_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.fake_btcpay_webhooks import Webhooks, new_id

STORE_ID = "8Rv8xBkZVdH5N3k6bUoCsfALrxZyCCvHMj4SUZUu7VkP"
API_KEY = "fake-greenfield-api-key"
WEBHOOK_SECRET = "fake-btcpay-webhook-secret"
#: Campaign currency per bitcoin, by currency.
RATES = {"EUR": Decimal("60000.00"), "USD": Decimal("65000.00"), "PLN": Decimal("260000.00")}
SATOSHI = Decimal("0.00000001")


def _coin(value: Decimal) -> str:
    """A coin amount as BTCPay writes it: eight decimals."""
    return f"{value.quantize(SATOSHI):f}"


class FakeBtcpay(Webhooks):
    def __init__(self, *, store_id: str = STORE_ID, api_key: str = API_KEY, webhook_secret: str = WEBHOOK_SECRET):
        self.store_id, self.api_key, self.webhook_secret = store_id, api_key, webhook_secret
        self.requests: list[dict] = []
        self.invoices: dict[str, dict] = {}
        #: Whether new invoices offer Lightning besides on-chain.
        self.lightning = True
        #: BTCPay 1.x payment method ids ("BTC", "BTC-LightningNetwork") instead of 2.x's.
        self.legacy_ids = False
        #: The store's "lazy payment methods": an invoice that does not say otherwise makes its
        #: address and Lightning invoice only when the donor picks one on BTCPay's page.
        self.lazy_by_default = False
        #: The next N requests are answered HTTP 503 (BTCPay or its proxy failing).
        self.fail_next = 0
        self.deliveries: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body, content_type: str = "application/json"):
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str):
                url = urlsplit(self.path)
                query = parse_qs(url.query)
                length = int(self.headers.get("Content-Length", 0) or 0)
                raw = self.rfile.read(length) if length else b""
                if url.path.startswith("/i/"):
                    return self._reply(*fake.checkout_page(url.path[3:]), content_type="text/html; charset=utf-8")
                fake.requests.append(
                    {"method": method, "path": url.path, "query": query, "body": raw, "headers": dict(self.headers)}
                )
                if fake.fail_next:
                    fake.fail_next -= 1
                    return self._reply(503, "Service Unavailable", content_type="text/plain")
                if self.headers.get("Authorization") != f"token {fake.api_key}":
                    return self._reply(401, {"code": "unauthenticated", "message": "Authentication is required"})
                prefix = f"/api/v1/stores/{fake.store_id}/invoices"
                if not url.path.startswith(prefix):
                    return self._reply(403, {"code": "forbidden", "message": "This API key is not allowed here"})
                rest = url.path[len(prefix) :].strip("/").split("/") if url.path != prefix else []
                return self._reply(*fake.answer(method, rest, query, raw))

            def do_GET(self):
                self._route("GET")

            def do_POST(self):
                self._route("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    # The API ----------------------------------------------------------------------------

    def answer(self, method: str, rest: list[str], query: dict, raw: bytes) -> tuple[int, object]:
        if method == "POST" and not rest:
            return self.create(raw)
        if method == "GET" and not rest:
            return 200, self.listed(query)
        invoice = self.invoices.get(rest[0])
        if method != "GET" or invoice is None:
            return 404, {"code": "invoice-not-found", "message": "The invoice is not found"}
        if len(rest) == 1:
            return 200, self.invoice_data(invoice)
        if rest[1:] == ["payment-methods"]:
            return 200, self.payment_methods_data(invoice)
        return 404, {"code": "not-found", "message": "Not found"}

    def create(self, raw: bytes) -> tuple[int, object]:
        try:
            request = json.loads(raw)
        except ValueError:
            return 400, [{"path": "", "message": "The request body is not JSON"}]
        currency = str(request.get("currency") or "EUR").upper()
        try:
            amount = Decimal(str(request.get("amount")))
        except ArithmeticError:
            return 400, [{"path": "amount", "message": "Amount should be a number"}]
        if amount <= 0:
            return 400, [{"path": "amount", "message": "Amount should be greater than 0"}]
        if currency not in RATES:
            return 400, [{"path": "currency", "message": f"No rate for {currency}"}]
        invoice_id = new_id()
        now = int(time.time())
        rate = RATES[currency]
        self.invoices[invoice_id] = {
            "id": invoice_id,
            "amount": amount,
            "currency": currency,
            "metadata": request.get("metadata") or {},
            "checkout": request.get("checkout") or {},
            "status": "New",
            "additionalStatus": "None",
            "createdTime": now,
            "expirationTime": now + 15 * 60,
            "rate": rate,
            "coin_amount": (amount / rate).quantize(SATOSHI, rounding=ROUND_UP),
            "address": "bcrt1q" + secrets.token_hex(19),
            "bolt11": "lnbcrt" + secrets.token_hex(60) if self.lightning else "",
            "payments": [],
            "created_seq": len(self.invoices),
            "lazy": bool((request.get("checkout") or {}).get("lazyPaymentMethods", self.lazy_by_default)),
        }
        return 200, self.invoice_data(self.invoices[invoice_id])

    def listed(self, query: dict) -> list[dict]:
        found = sorted(self.invoices.values(), key=lambda i: -i["created_seq"])  # newest first
        if "orderId" in query:
            found = [i for i in found if i["metadata"].get("orderId") in query["orderId"]]
        if "status" in query:
            found = [i for i in found if i["status"] in query["status"]]
        skip, take = int(query.get("skip", ["0"])[0]), int(query.get("take", ["100"])[0])
        return [self.invoice_data(i) for i in found[skip : skip + take]]

    def _method_ids(self) -> tuple[str, str]:
        return ("BTC", "BTC-LightningNetwork") if self.legacy_ids else ("BTC-CHAIN", "BTC-LN")

    def paid(self, invoice: dict, method_id: str | None = None) -> Decimal:
        return sum(
            (Decimal(p["value"]) for p in invoice["payments"] if method_id in (None, p["_method"])),
            Decimal(0),
        )

    def invoice_data(self, invoice: dict) -> dict:
        """``InvoiceData`` as Greenfield answers it."""
        paid = self.paid(invoice) * invoice["rate"]
        return {
            "id": invoice["id"],
            "storeId": self.store_id,
            "amount": f"{invoice['amount']:f}",
            "paidAmount": f"{paid.quantize(Decimal('0.01')):f}",
            "currency": invoice["currency"],
            "type": "Standard",
            "checkoutLink": f"{self.url}/i/{invoice['id']}",
            "createdTime": invoice["createdTime"],
            "expirationTime": invoice["expirationTime"],
            "monitoringExpiration": invoice["expirationTime"] + 24 * 3600,
            "status": invoice["status"],
            "additionalStatus": invoice["additionalStatus"],
            "availableStatusesForManualMarking": ["Settled", "Invalid"],
            "archived": False,
            "metadata": invoice["metadata"],
            "checkout": {
                "speedPolicy": "MediumSpeed",
                "paymentMethods": list(self._method_ids()),
                "defaultPaymentMethod": None,
                "lazyPaymentMethods": invoice["lazy"],
                "expirationMinutes": 15,
                "monitoringMinutes": 1440,
                "paymentTolerance": 0.0,
                "redirectURL": invoice["checkout"].get("redirectURL"),
                "redirectAutomatically": invoice["checkout"].get("redirectAutomatically", False),
                "defaultLanguage": invoice["checkout"].get("defaultLanguage"),
            },
            "receipt": {"enabled": True, "showQR": None, "showPayments": None},
        }

    def payment_methods_data(self, invoice: dict) -> list[dict]:
        """``InvoicePaymentMethodDataModel`` for each method of the invoice."""
        due = invoice["coin_amount"] - self.paid(invoice)
        chain, ln = self._method_ids()
        methods = [(chain, invoice["address"], f"bitcoin:{invoice['address']}?amount={_coin(max(due, Decimal(0)))}")]
        if invoice["bolt11"]:
            methods.append((ln, invoice["bolt11"], f"lightning:{invoice['bolt11']}"))
        return [
            {
                "paymentMethodId": method_id,
                "currency": "BTC",
                "destination": "" if invoice["lazy"] else destination,
                "paymentLink": None if invoice["lazy"] else link,
                "rate": f"{invoice['rate']:f}",
                "paymentMethodPaid": _coin(self.paid(invoice, method_id)),
                "totalPaid": _coin(self.paid(invoice)),
                "due": _coin(due),
                "amount": _coin(invoice["coin_amount"]),
                "paymentMethodFee": "0.00000000",
                "payments": [
                    {k: v for k, v in p.items() if not k.startswith("_")}
                    for p in invoice["payments"]
                    if p["_method"] == method_id
                ],
                "activated": not invoice["lazy"],
                "additionalData": {"keyPath": "0/7", "payjoinEnabled": False} if method_id == chain else {},
            }
            for method_id, destination, link in methods
        ]

    def checkout_page(self, invoice_id: str) -> tuple[int, str]:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            return 404, "<!doctype html><title>Invoice not found</title><h1>Invoice not found</h1>"
        back = str(invoice["checkout"].get("redirectURL") or "")
        back = back.replace("{InvoiceId}", invoice_id).replace(
            "{OrderId}", str(invoice["metadata"].get("orderId", ""))
        )
        link = f'<a id="return" href="{html.escape(back)}">Return to store</a>' if back else ""
        return 200, (
            "<!doctype html><html><head><title>Checkout</title></head><body>"
            f"<h1>Pay {invoice['amount']:f} {html.escape(invoice['currency'])}</h1>"
            f'<p id="coin">{_coin(invoice["coin_amount"])} BTC</p>'
            f'<p id="address">{html.escape(invoice["address"])}</p>'
            f'<p id="status">{invoice["status"]}</p>{link}</body></html>'
        )

    # Test controls: what the blockchain and BTCPay's clock do ------------------------------

    def only_invoice(self) -> str:
        """The id of the one invoice created (most tests start one donation)."""
        [invoice_id] = self.invoices
        return invoice_id

    def pay(self, invoice_id: str, coin_amount: str | Decimal | None = None, *, lightning: bool = False) -> dict:
        """A payment seen (unconfirmed on-chain, or a paid Lightning invoice); the whole amount
        still due when ``coin_amount`` is None. Moves the invoice as BTCPay would."""
        invoice = self.invoices[invoice_id]
        due = invoice["coin_amount"] - self.paid(invoice)
        value = Decimal(str(coin_amount)) if coin_amount is not None else due
        chain, ln = self._method_ids()
        method = ln if lightning else chain
        payment = {
            "id": secrets.token_hex(32) + ("" if lightning else "-0"),
            "receivedDate": int(time.time()),
            "value": _coin(value),
            "fee": "0.00000000",
            "status": "Settled" if lightning else "Processing",
            "destination": invoice["bolt11"] if lightning else invoice["address"],
            "_method": method,
        }
        invoice["payments"].append(payment)
        left = invoice["coin_amount"] - self.paid(invoice)
        if invoice["status"] == "Expired":
            invoice["additionalStatus"] = "PaidLate" if left <= 0 else "PaidPartial"
        elif invoice["status"] == "New" and left <= 0:
            invoice["status"] = "Settled" if lightning else "Processing"
            invoice["additionalStatus"] = "PaidOver" if left < 0 else "None"
        elif invoice["status"] == "New":
            invoice["additionalStatus"] = "PaidPartial"
        elif left < 0:
            invoice["additionalStatus"] = "PaidOver"
        return {k: v for k, v in payment.items() if not k.startswith("_")}

    def settle(self, invoice_id: str) -> None:
        """Enough confirmations: the payments settle, and a fully paid invoice with them."""
        invoice = self.invoices[invoice_id]
        for payment in invoice["payments"]:
            payment["status"] = "Settled"
        if invoice["status"] == "Processing":
            invoice["status"] = "Settled"

    def expire(self, invoice_id: str) -> None:
        invoice = self.invoices[invoice_id]
        invoice["status"] = "Expired"
        if invoice["payments"]:
            invoice["additionalStatus"] = "PaidPartial"

    def invalidate(self, invoice_id: str) -> None:
        """A payment never confirmed in time (or staff marked the invoice invalid)."""
        self.invoices[invoice_id]["status"] = "Invalid"

    def mark_settled(self, invoice_id: str) -> None:
        """Staff marked the invoice settled in BTCPay, whatever arrived."""
        invoice = self.invoices[invoice_id]
        invoice["status"], invoice["additionalStatus"] = "Settled", "Marked"


@contextmanager
def btcpay_enabled(settings, *, providers: tuple[str, ...] = ("btcpay", "bank")):
    """BTCPay as the donate form's first method, pointed at a FakeBtcpay (yielded)."""
    from zbor.payments import registry

    with FakeBtcpay() as fake:
        settings.ZBOR_PAYMENT_PROVIDERS = list(providers)
        settings.BTCPAY_URL = fake.url
        settings.BTCPAY_STORE_ID = fake.store_id
        settings.BTCPAY_API_KEY = fake.api_key
        settings.BTCPAY_WEBHOOK_SECRET = fake.webhook_secret
        registry._providers.cache_clear()
        try:
            yield fake
        finally:
            registry._providers.cache_clear()


@pytest.fixture
def btcpay(settings):
    """A running FakeBtcpay, with Zbor configured for it: BTCPAY_* settings and
    ZBOR_PAYMENT_PROVIDERS = ["btcpay", "bank"]."""
    with btcpay_enabled(settings) as fake:
        yield fake
