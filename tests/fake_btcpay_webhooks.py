"""The webhooks of the fake BTCPay Server (tests/fake_btcpay.py): each delivery as BTCPay writes
it (swagger.template.webhooks.json: ``WebhookInvoiceEvent`` and its kinds), signed as BTCPay
signs it: ``BTCPay-Sig: sha256=<hex HMAC-SHA256 of the body bytes, keyed with the secret>``."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from decimal import Decimal

WEBHOOK_ID = "Rq3Jm7dE9Tn2Yw5Ks8Pv1A"
_ID_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def new_id(length: int = 22) -> str:
    """An id as BTCPay draws them (invoices, deliveries)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


class Webhooks:
    """Mixed into FakeBtcpay: needs its ``invoices``, ``store_id``, ``webhook_secret``,
    ``deliveries`` and ``_method_ids``."""

    invoices: dict[str, dict]
    store_id: str
    webhook_secret: str
    deliveries: list[dict]

    def _method_ids(self) -> tuple[str, str]:
        raise NotImplementedError

    def sign(self, body: bytes) -> dict[str, str]:
        signature = hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        return {"BTCPay-Sig": f"sha256={signature}", "Content-Type": "application/json"}

    def webhook(self, invoice_id: str, event_type: str, **flags) -> tuple[bytes, dict[str, str]]:
        """The delivery BTCPay sends for ``event_type`` about the invoice as it is now: the
        body (bytes) and its headers. ``flags`` override the event's own fields (``overPaid``,
        ``partiallyPaid``, ``afterExpiration``, ``manuallyMarked``, ``payment``...)."""
        invoice = self.invoices[invoice_id]
        delivery = new_id()
        event = {
            "deliveryId": delivery,
            "webhookId": WEBHOOK_ID,
            "originalDeliveryId": delivery,
            "isRedelivery": False,
            "type": event_type,
            "timestamp": int(time.time()),
            "storeId": self.store_id,
            "invoiceId": invoice_id,
            "metadata": invoice["metadata"],
        }
        event.update(self._event_fields(invoice, event_type))
        event.update(flags)
        body = json.dumps(event, indent=2).encode()
        self.deliveries.append(event)
        return body, self.sign(body)

    def _event_fields(self, invoice: dict, event_type: str) -> dict:
        over = invoice["additionalStatus"] == "PaidOver"
        if event_type == "InvoiceSettled":
            return {"manuallyMarked": invoice["additionalStatus"] == "Marked", "overPaid": over}
        if event_type == "InvoiceProcessing":
            return {"overPaid": over}
        if event_type == "InvoiceInvalid":
            return {"manuallyMarked": False}
        if event_type == "InvoiceExpired":
            paid = sum((Decimal(p["value"]) for p in invoice["payments"]), Decimal(0))
            return {"partiallyPaid": Decimal(0) < paid < invoice["coin_amount"]}
        if event_type in ("InvoiceReceivedPayment", "InvoicePaymentSettled"):
            last = invoice["payments"][-1] if invoice["payments"] else {}
            return {
                "afterExpiration": invoice["status"] == "Expired",
                "paymentMethod": last.get("_method", self._method_ids()[0]),
                "payment": {k: v for k, v in last.items() if not k.startswith("_")},
            }
        return {}

    def redelivery(self, body: bytes) -> tuple[bytes, dict[str, str]]:
        """The same event delivered again (BTCPay's "Redeliver" button or its retries)."""
        event = json.loads(body)
        event.update(deliveryId=new_id(), isRedelivery=True, timestamp=int(time.time()))
        again = json.dumps(event, indent=2).encode()
        return again, self.sign(again)

    def deliver(self, url: str, invoice_id: str, event_type: str, **flags) -> int:
        """Post the webhook to a running Zbor (a live server's ``/webhooks/btcpay/``), as BTCPay
        does; returns the HTTP status."""
        import requests

        body, headers = self.webhook(invoice_id, event_type, **flags)
        return requests.post(url, data=body, headers=headers, timeout=10).status_code
