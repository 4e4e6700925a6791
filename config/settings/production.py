"""Production: HTTPS only, and no start without a real SECRET_KEY."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F401,F403
from .base import env_bool, env_str

DEBUG = False
SECRET_KEY = env_str("SECRET_KEY")
_KNOWN_BAD = {"", "change-me", "changeme", "secret", "dev-insecure-zbor-secret-key-do-not-use-in-production"}
if SECRET_KEY in _KNOWN_BAD or SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY is missing or a default. Set SECRET_KEY to at least 50 random characters, "
        "for example: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
    )

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = 63072000
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
ZBOR_DEMO = False
if "demo" in ZBOR_PAYMENT_PROVIDERS:  # noqa: F405
    raise ImproperlyConfigured("The demo payment provider cannot be enabled with production settings.")
# The Greenfield API key and the invoices travel to BTCPay Server: never in clear text.
if "btcpay" in ZBOR_PAYMENT_PROVIDERS and not BTCPAY_URL.startswith("https://"):  # noqa: F405
    raise ImproperlyConfigured("BTCPAY_URL must be an https:// address: the API key is sent with every request.")
if not ZBOR_ENCRYPTION_KEYS:  # noqa: F405
    raise ImproperlyConfigured(
        "ZBOR_ENCRYPTION_KEYS is required: beneficiaries' and recipients' private data is encrypted with it."
    )
# A mail backend that prints or saves messages would write donors' addresses (a receipt's To:)
# into the server's logs or disk.
if EMAIL_BACKEND.rsplit(".", 2)[-2] in {"console", "filebased"}:  # noqa: F405
    raise ImproperlyConfigured(
        "EMAIL_BACKEND must send mail (SMTP), not print or save it: receipts carry donors' email addresses."
    )
# Two-factor sign-in for staff cannot be switched off in production.
ZBOR_REQUIRE_2FA = True
# The Stripe SDK prints every request and whole responses (cardholders' names, emails,
# addresses) to stderr with STRIPE_LOG=debug or info, past the logging settings.
if os.environ.get("STRIPE_LOG"):
    raise ImproperlyConfigured(
        "STRIPE_LOG must not be set in production: the Stripe SDK would print cardholders' details to stderr."
    )
# Casework passphrases and applicants' phrases: the test-only "min" Argon2id limits are refused.
if "min" in (ZBOR_CASEWORKER_KDF, ZBOR_CASE_PHRASE_KDF):  # noqa: F405
    raise ImproperlyConfigured("ZBOR_CASEWORKER_KDF and ZBOR_CASE_PHRASE_KDF may not be 'min' in production.")
