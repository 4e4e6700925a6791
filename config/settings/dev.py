"""The embedded default used by `make run`: SQLite, debug pages, a throw-away secret."""

from .base import *  # noqa: F401,F403
from .base import DATA_DIR, env_bool, env_list, env_str

DEBUG = env_bool("DEBUG", True)
# Only for local development; production.py refuses this value.
SECRET_KEY = env_str("SECRET_KEY", "dev-insecure-zbor-secret-key-do-not-use-in-production")
DATA_DIR.mkdir(parents=True, exist_ok=True)
ZBOR_DEMO = True
# Receipts are printed, not sent: the demo has no mail server.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Static files straight from the apps: no collectstatic step for development.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The demo checkout and a demo bank account, unless the environment names others.
ZBOR_PAYMENT_PROVIDERS = env_list("ZBOR_PAYMENT_PROVIDERS", ["demo", "bank"])
ZBOR_BANK_IBAN = env_str("ZBOR_BANK_IBAN", "PL61 1090 1014 0000 0712 1981 2874")
ZBOR_BANK_BIC = env_str("ZBOR_BANK_BIC", "WBKPPLPP")
ZBOR_BANK_ACCOUNT_NAME = env_str("ZBOR_BANK_ACCOUNT_NAME", "Zbor Foundation (demo account)")
# Development only: a key made on first run and kept in the data directory. Production
# refuses to start without ZBOR_ENCRYPTION_KEYS.
_dev_key_file = DATA_DIR / "dev-encryption.key"
if not _dev_key_file.exists():
    from cryptography.fernet import Fernet

    _dev_key_file.write_bytes(Fernet.generate_key())
    _dev_key_file.chmod(0o600)
ZBOR_ENCRYPTION_KEYS = env_list("ZBOR_ENCRYPTION_KEYS", [_dev_key_file.read_text().strip()])
# Two-factor sign-in is optional for the local demo login; production requires it.
ZBOR_REQUIRE_2FA = env_bool("ZBOR_REQUIRE_2FA", False)
