"""Logging: ``LOG_LEVEL`` sets how much Zbor's own code says; every other logger stays at WARNING.

Libraries log what passes through them: at INFO the Stripe SDK logs each payment id with its
time, at DEBUG whole API responses (the cardholder's name, email and address); urllib3 and
requests log every URL they call; huey logs each task it runs. None of that may reach a log
because someone turned LOG_LEVEL up to debug Zbor. So the root logger, which every library's
logger inherits from, is at WARNING whatever LOG_LEVEL says, and LOG_LEVEL applies to the
``zbor`` loggers only. A library's warnings and errors still show.

huey's worker (``zbor run_huey``) sets up its own "huey" logger at INFO unless that logger has a
handler: it gets the console handler here, at WARNING, and does not propagate (no line twice).

``LOG_FORMAT``: ``text`` (the default) writes today's plain lines; ``json`` writes one JSON object
per record (zbor/logs.py: ``JsonFormatter``), a traceback inside it, and adds one line per request
(logger ``zbor.requests``, which ``text`` keeps at WARNING, i.e. silent). Business events
(``zbor.events``) are written in both. Every record carries the request's id (``RequestIdFilter``).
"""

from __future__ import annotations

#: Loggers named here only to say so plainly: the root's WARNING already holds them, and a
#: test (tests/test_privacy_debug.py) checks that every logger but Zbor's is at WARNING or above.
LIBRARIES = ("stripe", "urllib3", "requests", "httpx", "httpcore", "redis", "weasyprint", "fontTools", "PIL", "parler")


FORMATS = ("text", "json")


def logging_config(level: str, log_format: str = "text") -> dict:
    if log_format not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}")
    json_lines = log_format == "json"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
            "json": {"()": "zbor.logs.JsonFormatter"},
        },
        "filters": {
            "request_id": {"()": "zbor.logs.RequestIdFilter"},
            # /healthz and /readyz never reach a request log, not even a 503 (zbor/health.py).
            "no_health_checks": {"()": "zbor.health.DropHealthChecks"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if json_lines else "plain",
                "filters": ["request_id"],
            }
        },
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            "zbor": {"level": level.upper()},
            # One line per request in JSON only: text keeps today's output.
            "zbor.requests": {"level": level.upper() if json_lines else "WARNING"},
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
