"""Settings for pytest: the base settings (so DATABASE_URL / REDIS_URL pick the backends, which is
how .ci/run runs the same suite on PostgreSQL and Redis) with fast hashing and temporary media."""

import tempfile
from pathlib import Path

from .base import *  # noqa: F401,F403

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-any-deployment-0123456789abcdef"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="zbor-test-media-"))
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
ZBOR_DEMO = True
ZBOR_FOUNDATION_NAME = "Zbor Foundation"
ZBOR_PUBLIC_URL = ""
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Live-server threads must not keep connections open past a test (PostgreSQL refuses to drop
# a test database someone is still connected to).
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
ZBOR_PAYMENT_PROVIDERS = ["demo", "bank"]
ZBOR_BANK_IBAN = "PL61 1090 1014 0000 0712 1981 2874"
ZBOR_BANK_BIC = "WBKPPLPP"
ZBOR_BANK_ACCOUNT_NAME = "Zbor Foundation"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ZBOR_ENCRYPTION_KEYS = ["ZmFrZS10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDAwMDA="]
ZBOR_PRIVATE_ROOT = Path(tempfile.mkdtemp(prefix="zbor-test-private-"))
# Tests apply many times from one address; zbor/site/tests/test_apply_limits.py sets real limits.
ZBOR_APPLICATIONS_PER_CLIENT_HOUR = 1000
ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_CLIENT_HOUR = 1000
ZBOR_APPLICATIONS_WITHOUT_PROOF_PER_HOUR = 1000
ZBOR_REQUIRE_2FA = False
# Tasks run at once, in the test's process, with their retries.
HUEY = {**HUEY, "immediate": True}  # noqa: F405
ZBOR_TASK_RETRY_DELAY = 0
# A small proof of work: the tests solve it in Python for every card payment.
ZBOR_CHALLENGE_MAX_NUMBER = 2000
# Tests give many times from one address; tests/test_abuse.py sets the real limits.
ZBOR_CARD_STARTS_PER_CLIENT_HOUR = 1000
ZBOR_PLEDGES_PER_CLIENT_HOUR = 1000
# Argon2id at its minimum: a real unlock costs a fraction of a second and 256 MB per test.
ZBOR_CASEWORKER_KDF = "min"
ZBOR_CASE_PHRASE_KDF = "min"
