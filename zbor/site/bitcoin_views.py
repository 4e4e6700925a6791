"""Zbor's own page for paying a Bitcoin donation: the address, the exact amount and QR codes.

BTCPay Server's checkout page needs JavaScript. A donor without it (the donate form's
``<noscript>`` field ``nojs=1`` says so) is sent to the donation's status page instead, which
shows what BTCPay's invoice asks for, read from its Greenfield API at most once every
``METHODS_SECONDS`` per invoice and process (``BtcpayProvider.payment_methods``; a donor's
reloads, or someone holding the page's address, cannot make Zbor call BTCPay more often): the amount in BTC, the address, a ``bitcoin:`` QR code and,
where the store offers Lightning, the Lightning invoice and its QR code. Reloading the page shows
whether the payment arrived. If BTCPay does not answer, the page says so calmly (no error page).

Nothing here is sent anywhere: the QR codes are drawn on the server as inline SVG
(``zbor.payments.epc.qr_svg``), and the page loads nothing from BTCPay.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zbor.cache import SingleFlight
from zbor.donations.models import Donation, DonationStatus
from zbor.money import Money, format_money, minor_digits
from zbor.payments import registry
from zbor.payments.base import ProviderUnavailable
from zbor.payments.btcpay import BtcpayProvider, CryptoPaymentMethod
from zbor.payments.epc import qr_svg

log = logging.getLogger(__name__)

PROVIDER = "btcpay"
#: How long an invoice's payment methods are kept before BTCPay is asked again.
METHODS_SECONDS = 10
METHODS = SingleFlight(seconds=METHODS_SECONDS, max_entries=2000)


def pays_on_zbor(request, donation: Donation) -> bool:
    """Whether the donor is shown Zbor's own payment page rather than sent to BTCPay's: a
    pending Bitcoin donation from a browser without JavaScript (the form's ``nojs`` field)."""
    return (
        donation.provider == PROVIDER and donation.status == DonationStatus.PENDING and request.POST.get("nojs") == "1"
    )


def _coin(value: str) -> Decimal:
    """An amount in the coin as BTCPay gives it (a decimal string); 0 when unreadable."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError):
        return Decimal(0)
    return amount if amount.is_finite() else Decimal(0)


@dataclass(frozen=True)
class Method:
    """One way to pay the invoice, as the page shows it."""

    method: CryptoPaymentMethod
    #: What a wallet opens: BTCPay's ``bitcoin:``/``lightning:`` link, else the destination.
    link: str
    qr: SafeString

    @property
    def due(self) -> str:
        """What is still to send, as BTCPay writes it (its own digits, for the copy button)."""
        return self.method.due or self.method.amount


@dataclass(frozen=True)
class BitcoinPayment:
    """What the page shows for a pending Bitcoin donation; ``unavailable`` when BTCPay did not
    answer (the page then asks the donor to reload in a minute)."""

    unavailable: bool = False
    onchain: Method | None = None
    lightning: Method | None = None
    #: Some of the amount arrived, some is still due (an underpayment to complete).
    partly_paid: str = ""
    #: All of it arrived at BTCPay and waits to be confirmed on the blockchain.
    arrived: bool = False
    #: BTCPay's rate, as "1 BTC = €60,012.34".
    rate: str = ""

    @property
    def offered(self) -> bool:
        return self.onchain is not None or self.lightning is not None


def _rate(method: CryptoPaymentMethod, currency: str) -> str:
    rate = _coin(method.rate)
    if not rate:
        return ""
    minor = int((rate * 10 ** minor_digits(currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return f"1 {method.coin} = {format_money(Money(minor, currency), get_language() or 'en')}"


def bitcoin_payment(donation: Donation) -> BitcoinPayment | None:
    """What BTCPay's invoice for a pending Bitcoin donation asks for now, or ``unavailable``;
    None for any other donation."""
    if donation.provider != PROVIDER or donation.status != DonationStatus.PENDING:
        return None
    provider = registry.get(PROVIDER)
    if not isinstance(provider, BtcpayProvider) or not donation.checkout_reference:
        return BitcoinPayment(unavailable=True)
    try:
        invoice = donation.checkout_reference
        methods = METHODS.get_or_make(invoice, lambda: provider.payment_methods(invoice))
    except ProviderUnavailable:
        # Calm for the donor; the operator sees the warning (no invoice id: it names a gift).
        log.warning("BTCPay did not answer for a donation's payment methods")
        return BitcoinPayment(unavailable=True)
    onchain = next((m for m in methods if m.kind == "onchain"), None)
    lightning = next((m for m in methods if m.kind == "lightning"), None)
    first = onchain or lightning
    if first is None:
        return BitcoinPayment()
    # Every method of an invoice shares what is due; what arrived is the total less that.
    total, due = _coin(first.amount), _coin(first.due)
    if total > 0 and due <= 0:
        return BitcoinPayment(arrived=True, rate=_rate(first, donation.currency))
    paid = total - due if total > due else Decimal(0)
    return BitcoinPayment(
        onchain=_method(onchain, _("QR code for your Bitcoin wallet"), upper=False),
        lightning=_method(lightning, _("QR code of the Lightning invoice"), upper=True),
        partly_paid=f"{paid:f} {first.coin}" if paid > 0 and due > 0 else "",
        rate=_rate(first, donation.currency),
    )


def _method(method: CryptoPaymentMethod | None, label: str, *, upper: bool) -> Method | None:
    if method is None or not method.destination:
        return None
    scheme = "lightning:" if upper else "bitcoin:"
    link = method.payment_link or scheme + method.destination
    # A Lightning invoice (bech32) reads the same in capitals, which a QR code holds in its
    # smaller alphanumeric mode: wallets expect it so (BOLT 11). A bitcoin: URI keeps its case.
    return Method(method=method, link=link, qr=qr_svg(link.upper() if upper else link, label=label))
