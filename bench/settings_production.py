"""The production settings (from the environment the bench sets) plus the bench's yardstick URL."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
