"""Bitcoin through the foundation's own BTCPay Server: its Greenfield API and signed webhooks.

What BTCPay learns from Zbor about a donation: an amount, a currency, and the donation's random
id as the invoice's ``orderId``. No campaign, no beneficiary, no buyer fields, no item text.
BTCPay converts the amount to bitcoin at its rate; the donor pays on-chain or over Lightning.

A webhook names an invoice and what happened to it, never an amount: for a payment, Zbor reads
the invoice and its payment methods to learn what arrived, in the campaign's currency (what was
due, less what is still due at BTCPay's rate). Each state event's id is ``<invoice>:<type>``, so
a redelivery, and ``zbor reconcile --btcpay`` booking a settled invoice whose webhook never came,
find the same stored event and book it once.

    InvoiceSettled                     SUCCEEDED at the fiat paid (coin amount and rate in extra)
    InvoiceExpired, nothing paid       EXPIRED
    InvoiceExpired, partiallyPaid      a payment for finance's review (never booked by itself)
    InvoiceReceivedPayment or
    InvoicePaymentSettled, afterExpiration   a payment for finance's review
    InvoiceInvalid                     FAILED
    anything else                      ignored
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

import requests

from zbor.money import is_currency, minor_digits

from .base import (
    CheckoutRequest,
    CheckoutStart,
    EventType,
    HeldInZbor,
    InvalidWebhook,
    PaymentEvent,
    ProviderUnavailable,
    RefundRefused,
    RefundRequest,
    RefundResult,
    SubscriptionRequest,
)

log = logging.getLogger(__name__)

#: Seconds to connect, and to wait for an answer.
TIMEOUT = (5, 15)
#: Invoices asked for at once when listing a store's invoices.
PAGE = 100
#: BTCPay's checkout languages for Zbor's (it falls back to the store's default when unknown).
CHECKOUT_LANGUAGES = {"en": "en", "ru": "ru-RU", "be": "be", "pl": "pl"}
#: Payment method ids: BTCPay 2.x, then 1.x.
ONCHAIN_IDS = ("BTC-CHAIN", "BTC")
LIGHTNING_IDS = ("BTC-LN", "BTC-LightningNetwork")
#: Invoices that may still be paid, or were: a second checkout of the same donation reuses them.
LIVE_STATUSES = ("New", "Processing", "Settled")

#: ``PaymentEvent.extra["review"]``: why a payment goes to finance even at the pledged amount.
PAID_LATE = "paid_after_expiration"
PARTIALLY_PAID = "partially_paid"
MANUALLY_MARKED = "manually_marked"


@dataclass(frozen=True)
class CryptoPaymentMethod:
    """One way to pay an invoice, as BTCPay gives it: what Zbor's own payment page shows."""

    kind: str  # "onchain" or "lightning"
    coin: str  # "BTC"
    destination: str  # the address, or the BOLT11 invoice
    payment_link: str  # "bitcoin:bc1...?amount=0.00041234" / "lightning:lnbc..."
    amount: str  # the invoice's total in the coin, a decimal string
    due: str  # still due in the coin
    paid: str  # paid so far in the coin
    rate: str  # the invoice's currency per coin, a decimal string


def settled_event_id(invoice_id: str) -> str:
    """The id of an invoice's settlement, whether its webhook or reconcile reports it."""
    return f"{invoice_id}:InvoiceSettled"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _decimal(value: Any, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ProviderUnavailable(f"BTCPay's {field} is not a number: {value!r}") from None
    if not number.is_finite():
        raise ProviderUnavailable(f"BTCPay's {field} is not a number: {value!r}")
    return number


def _kind(method_id: str) -> str:
    if method_id in ONCHAIN_IDS:
        return "onchain"
    if method_id in LIGHTNING_IDS:
        return "lightning"
    return ""


class BtcpayProvider(HeldInZbor):
    """The foundation's BTCPay Server store. No monthly gifts (a Bitcoin payment is pushed by
    the donor each time); refunds are sent by hand from the foundation's wallet and booked."""

    name = "btcpay"
    redirects = True
    local_checkout = False
    #: No proof of work: the donor must be able to give with JavaScript off. An invoice moves
    #: no money by itself; the per-client limits apply as for a bank pledge.
    needs_challenge = False
    refunds_at_provider = False
    monthly = False

    def __init__(self, *, url: str, store_id: str, api_key: str, webhook_secret: str):
        self.url = url.rstrip("/")
        self.store_id = store_id
        self.api_key = api_key
        self.webhook_secret = webhook_secret
        self.checkout_origins: tuple[str, ...] = (_origin(self.url),)

    # The Greenfield API -------------------------------------------------------------------

    def _call(self, method: str, path: str, *, params: dict | None = None, body: dict | None = None) -> Any:
        """One Greenfield request on the store; any failure to answer readably is
        ``ProviderUnavailable`` (nothing was charged; the caller may try again)."""
        url = f"{self.url}/api/v1/stores/{self.store_id}{path}"
        try:
            response = requests.request(
                method,
                url,
                params=params,
                json=body,
                headers={"Authorization": f"token {self.api_key}", "Accept": "application/json"},
                timeout=TIMEOUT,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"BTCPay did not answer: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"BTCPay answered {method} {path.split('/')[1]} with HTTP {response.status_code}"
            )
        try:
            return response.json()
        except ValueError:
            raise ProviderUnavailable("BTCPay's answer is not JSON") from None

    def invoice(self, invoice_id: str) -> dict:
        """The invoice as Greenfield gives it (``InvoiceData``)."""
        data = self._call("GET", f"/invoices/{invoice_id}")
        if not isinstance(data, dict) or data.get("id") != invoice_id:
            raise ProviderUnavailable("BTCPay answered with another invoice")
        return data

    def invoices(self, *, status: tuple[str, ...] = (), order_id: str = "") -> Iterator[dict]:
        """The store's invoices, newest first, a page at a time (``skip``/``take``)."""
        skip = 0
        while True:
            params: dict[str, Any] = {"skip": skip, "take": PAGE}
            if status:
                params["status"] = list(status)
            if order_id:
                params["orderId"] = order_id
            page = self._call("GET", "/invoices", params=params)
            if not isinstance(page, list):
                raise ProviderUnavailable("BTCPay's invoice list is not a list")
            yield from (invoice for invoice in page if isinstance(invoice, dict))
            if len(page) < PAGE:
                return
            skip += PAGE

    def _methods(self, invoice_id: str) -> list[dict]:
        data = self._call("GET", f"/invoices/{invoice_id}/payment-methods")
        if not isinstance(data, list):
            raise ProviderUnavailable("BTCPay's payment methods are not a list")
        return [method for method in data if isinstance(method, dict)]

    def payment_methods(self, invoice_id: str) -> list[CryptoPaymentMethod]:
        """How the donor can pay the invoice: on-chain first, then Lightning; methods BTCPay has
        not activated (no destination yet) and others (LNURL, other coins) are left out."""
        found = []
        for method in self._methods(invoice_id):
            kind = _kind(str(method.get("paymentMethodId", "")))
            if not kind or not method.get("destination") or method.get("activated") is False:
                continue
            found.append(
                CryptoPaymentMethod(
                    kind=kind,
                    coin=str(method.get("currency") or "BTC"),
                    destination=str(method["destination"]),
                    payment_link=str(method.get("paymentLink") or ""),
                    amount=str(method.get("amount", "")),
                    due=str(method.get("due", "")),
                    paid=str(method.get("paymentMethodPaid", "")),
                    rate=str(method.get("rate", "")),
                )
            )
        return sorted(found, key=lambda m: m.kind != "onchain")

    # Checkout -----------------------------------------------------------------------------

    def start_checkout(self, request: CheckoutRequest) -> CheckoutStart:
        """An invoice for the donation, or the one made for it before (found by its ``orderId``:
        BTCPay has no idempotency keys, and a retried start must not make a second invoice)."""
        for invoice in self.invoices(order_id=request.donation_reference):
            if invoice.get("status") in LIVE_STATUSES and invoice.get("checkoutLink"):
                return CheckoutStart(redirect_url=str(invoice["checkoutLink"]), provider_reference=str(invoice["id"]))
        digits = minor_digits(request.currency)
        invoice = self._call(
            "POST",
            "/invoices",
            body={
                "amount": f"{Decimal(request.amount).scaleb(-digits):.{digits}f}",
                "currency": request.currency,
                "metadata": {"orderId": request.donation_reference},
                "checkout": {
                    "redirectURL": request.success_url,
                    "redirectAutomatically": True,
                    "defaultLanguage": CHECKOUT_LANGUAGES.get(request.language, "en"),
                    # Every address and Lightning invoice made now, whatever the store's default:
                    # Zbor's own page (no JavaScript) shows them without BTCPay's page.
                    "lazyPaymentMethods": False,
                },
            },
        )
        if not isinstance(invoice, dict) or not invoice.get("id") or not invoice.get("checkoutLink"):
            raise ProviderUnavailable("BTCPay returned an invoice without an id or checkout link")
        return CheckoutStart(redirect_url=str(invoice["checkoutLink"]), provider_reference=str(invoice["id"]))

    def start_subscription(self, request: SubscriptionRequest) -> CheckoutStart:
        raise ProviderUnavailable("Bitcoin gifts are one-off: BTCPay has no monthly gifts in Zbor")

    def refund(self, request: RefundRequest) -> RefundResult:
        raise RefundRefused("refunded by hand from the foundation's wallet: there is no provider to ask")

    # What arrived -------------------------------------------------------------------------

    def paid_event(self, invoice: dict, *, event_id: str, review: str = "") -> PaymentEvent:
        """A payment of ``invoice`` at what it brought in its currency: the invoice's amount less
        what is still due (negative when overpaid) at BTCPay's rate, rounded to the currency's
        minor units. ``review``: a reason to send it to finance whatever the amount."""
        invoice_id, currency = str(invoice["id"]), str(invoice.get("currency", "")).upper()
        methods = self._methods(invoice_id)
        rated = [m for m in methods if _kind(str(m.get("paymentMethodId", ""))) == "onchain"] or methods
        if not rated:
            raise ProviderUnavailable(f"BTCPay's invoice {invoice_id} has no payment method")
        if not is_currency(currency):
            raise ProviderUnavailable(f"BTCPay's invoice {invoice_id} is in an unknown currency {currency!r}")
        digits = minor_digits(currency)
        total = _decimal(invoice.get("amount"), "amount")
        due, rate = _decimal(rated[0].get("due"), "due"), _decimal(rated[0].get("rate"), "rate")
        coin_paid = sum((_decimal(m.get("paymentMethodPaid", "0"), "paid") for m in methods), Decimal(0))
        fiat = total if due == 0 else max(total - due * rate, Decimal(0))
        if invoice.get("additionalStatus") == "Marked":
            review = review or MANUALLY_MARKED
        extra = {
            "coin": str(rated[0].get("currency") or "BTC"),
            "coin_amount": str(coin_paid),
            "rate": str(rate),
            "overpaid": due < 0,
        }
        if review:
            extra["review"] = review
        return PaymentEvent(
            "btcpay",
            event_id,
            EventType.SUCCEEDED,
            checkout_reference=invoice_id,
            payment_reference=invoice_id,
            amount=int(fiat.scaleb(digits).quantize(Decimal(1), rounding=ROUND_HALF_UP)),
            currency=currency,
            fee=0,
            extra=extra,
        )

    # Webhooks -----------------------------------------------------------------------------

    def verify(self, body: bytes, signature: str) -> None:
        """``BTCPay-Sig: sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>``."""
        expected = "sha256=" + hmac.new(self.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
            raise InvalidWebhook("BTCPay-Sig does not match the body")

    def parse_webhook(self, body: bytes, headers: dict[str, str]) -> PaymentEvent | None:
        self.verify(body, headers.get("btcpay-sig", ""))
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise InvalidWebhook("the webhook is not JSON") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            raise InvalidWebhook("the webhook is not a BTCPay event")
        invoice_id = payload.get("invoiceId")
        if not payload["type"].startswith("Invoice") or not isinstance(invoice_id, str) or not invoice_id:
            return None  # a payout's or payment request's event: not about a donation
        if payload.get("storeId") != self.store_id:
            log.warning("a BTCPay webhook for another store (%s) was ignored", payload.get("storeId"))
            return None
        return self._reduce(payload["type"], invoice_id, payload)

    def _reduce(self, kind: str, invoice_id: str, payload: dict) -> PaymentEvent | None:
        if kind == "InvoiceSettled":
            invoice = self.invoice(invoice_id)
            if invoice.get("status") != "Settled":
                log.warning(
                    "BTCPay invoice %s is %s, not settled: its settlement is ignored",
                    invoice_id,
                    invoice.get("status"),
                )
                return None
            return self.paid_event(invoice, event_id=settled_event_id(invoice_id))
        if kind == "InvoiceInvalid":
            return PaymentEvent("btcpay", f"{invoice_id}:{kind}", EventType.FAILED, checkout_reference=invoice_id)
        if kind == "InvoiceExpired" and not payload.get("partiallyPaid"):
            return PaymentEvent("btcpay", f"{invoice_id}:{kind}", EventType.EXPIRED, checkout_reference=invoice_id)
        if kind == "InvoiceExpired" or (
            kind in ("InvoiceReceivedPayment", "InvoicePaymentSettled") and payload.get("afterExpiration")
        ):
            # Money arrived on an invoice that had expired: what the invoice has received in all,
            # for finance. Its id names that total, so each new payment is seen, each once.
            invoice = self.invoice(invoice_id)
            if invoice.get("status") == "Settled":
                return None  # a stale delivery: the invoice's settlement books what arrived
            return self._late_money(invoice, PARTIALLY_PAID if kind == "InvoiceExpired" else PAID_LATE)
        return None  # created, processing, a payment still within the invoice's time: nothing to do

    def _late_money(self, invoice: dict, reason: str) -> PaymentEvent:
        """What an expired invoice has received in all, for finance. The event's id names that
        total, so each new payment is seen, and each once."""
        event = self.paid_event(invoice, event_id="", review=reason)
        return replace(event, event_id=f"{invoice['id']}:received:{event.extra['coin_amount']}")

    def state_event(self, invoice: dict) -> PaymentEvent | None:
        """The event an invoice's present state brings, with the id its webhook's would have: how
        ``zbor reconcile --btcpay`` applies what a lost webhook would have said. None while the
        invoice is open (new, or paid and waiting for confirmations)."""
        invoice_id, status, additional = str(invoice["id"]), invoice.get("status"), invoice.get("additionalStatus")
        if status == "Settled":
            return self.paid_event(invoice, event_id=settled_event_id(invoice_id))
        if status == "Invalid":
            return PaymentEvent(
                "btcpay", f"{invoice_id}:InvoiceInvalid", EventType.FAILED, checkout_reference=invoice_id
            )
        if status == "Expired" and additional in ("PaidPartial", "PaidLate"):
            return self._late_money(invoice, PARTIALLY_PAID if additional == "PaidPartial" else PAID_LATE)
        if status == "Expired":
            return PaymentEvent(
                "btcpay", f"{invoice_id}:InvoiceExpired", EventType.EXPIRED, checkout_reference=invoice_id
            )
        return None
