"""The WSGI application. Public pages go through PublicPageCache (zbor/site/fastpath.py): a
page rendered in the last second is answered without entering Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from zbor.site.fastpath import PublicPageCache  # noqa: E402 - after the settings module is chosen

application = PublicPageCache(get_wsgi_application())
