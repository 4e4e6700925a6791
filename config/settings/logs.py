"""Logging: ``LOG_LEVEL`` sets how much Zbor's own code says; every other logger stays at WARNING.

Libraries log what passes through them: at INFO the Stripe SDK logs each payment id with its
time, at DEBUG whole API responses (the cardholder's name, email and address); urllib3 and
requests log every URL they call; huey logs each task it runs. None of that may reach a log
because someone turned LOG_LEVEL up to debug Zbor. So the root logger, which every library's
logger inherits from, is at WARNING whatever LOG_LEVEL says, and LOG_LEVEL applies to the
``zbor`` loggers only. A library's warnings and errors still show.

huey's worker (``zbor run_huey``) sets up its own "huey" logger at INFO unless that logger has a
handler: it gets the console handler here, at WARNING, and does not propagate (no line twice).
"""

from __future__ import annotations

#: Loggers named here only to say so plainly: the root's WARNING already holds them, and a
#: test (tests/test_privacy_debug.py) checks that every logger but Zbor's is at WARNING or above.
LIBRARIES = ("stripe", "urllib3", "requests", "httpx", "httpcore", "redis", "weasyprint", "fontTools", "PIL", "parler")


def logging_config(level: str) -> dict:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
        # /healthz and /readyz never reach a request log, not even a 503 (zbor/health.py).
        "filters": {"no_health_checks": {"()": "zbor.health.DropHealthChecks"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "zbor": {"level": level.upper()},
            **{name: {"level": "WARNING"} for name in LIBRARIES},
            "huey": {"handlers": ["console"], "level": "WARNING", "propagate": False},
            # Django's own: WARNING like every library (its DEFAULT_LOGGING says INFO, and adds a
            # console handler of its own in DEBUG: records reach the root's once).
            "django": {"handlers": [], "level": "WARNING"},
            # The request logger prints paths and client details; keep it to errors.
            "django.server": {"level": "WARNING", "filters": ["no_health_checks"]},
            "django.request": {"level": "ERROR", "filters": ["no_health_checks"]},
        },
    }
