"""The embedded default (`make run`'s settings) plus the bench's yardstick URL."""

from config.settings.dev import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
