"""Which payment providers are live, from settings (themselves from the environment)."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .bank import BankProvider
from .base import Provider
from .btcpay import BtcpayProvider
from .demo import DemoProvider
from .stripe import StripeProvider

LABELS = {
    "demo": _("Test payment (demo)"),
    "stripe": _("Card"),
    "bank": _("Bank transfer"),
    "btcpay": _("Bitcoin"),
}


def _build(name: str) -> Provider:
    if name == "demo":
        if not settings.ZBOR_DEMO:
            raise ImproperlyConfigured("The demo payment provider cannot be enabled with production settings.")
        return DemoProvider()
    if name == "stripe":
        if not settings.STRIPE_SECRET_KEY or not settings.STRIPE_WEBHOOK_SECRET:
            raise ImproperlyConfigured("The stripe provider needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.")
        return StripeProvider(
            secret_key=settings.STRIPE_SECRET_KEY,
            webhook_secret=settings.STRIPE_WEBHOOK_SECRET,
            product_name=settings.ZBOR_PAYMENT_PRODUCT_NAME,
            descriptor_suffix=settings.STRIPE_STATEMENT_DESCRIPTOR_SUFFIX,
            api_base=settings.STRIPE_API_BASE,
        )
    if name == "btcpay":
        needed = ("BTCPAY_URL", "BTCPAY_STORE_ID", "BTCPAY_API_KEY", "BTCPAY_WEBHOOK_SECRET")
        if not all(getattr(settings, setting) for setting in needed):
            raise ImproperlyConfigured(f"The btcpay provider needs {', '.join(needed)}.")
        return BtcpayProvider(
            url=settings.BTCPAY_URL,
            store_id=settings.BTCPAY_STORE_ID,
            api_key=settings.BTCPAY_API_KEY,
            webhook_secret=settings.BTCPAY_WEBHOOK_SECRET,
        )
    if name == "bank":
        if not settings.ZBOR_BANK_IBAN:
            raise ImproperlyConfigured(
                "The bank provider needs ZBOR_BANK_IBAN (and ZBOR_BANK_BIC, ZBOR_BANK_ACCOUNT_NAME)."
            )
        return BankProvider()
    raise ImproperlyConfigured(f"Unknown payment provider {name!r} in ZBOR_PAYMENT_PROVIDERS.")


@cache
def _providers(names: tuple[str, ...]) -> dict[str, Provider]:
    return {name: _build(name) for name in names}


def enabled() -> dict[str, Provider]:
    """The live providers, in the order the settings list them."""
    return _providers(tuple(settings.ZBOR_PAYMENT_PROVIDERS))


def get(name: str) -> Provider | None:
    return enabled().get(name)


def label(name: str) -> str:
    return str(LABELS.get(name, name))
