"""The embedded default used by `make run`: SQLite, debug pages, a throw-away secret."""

from .base import *  # noqa: F401,F403
from .base import DATA_DIR, env_bool, env_str

DEBUG = env_bool("DEBUG", True)
# Only for local development; production.py refuses this value.
SECRET_KEY = env_str("SECRET_KEY", "dev-insecure-zbor-secret-key-do-not-use-in-production")
DATA_DIR.mkdir(parents=True, exist_ok=True)
ZBOR_DEMO = True
# Static files straight from the apps: no collectstatic step for development.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
