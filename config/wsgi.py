"""The WSGI application. Public pages go through PublicPageCache (zbor/site/fastpath.py): a
page rendered in the last second is answered without entering Django."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

from zbor.site.fastpath import PublicPageCache  # noqa: E402 - after the settings module is chosen

#: Python's default is 700 new objects between collections of the youngest generation.
GC_FIRST_THRESHOLD = 7000

application = PublicPageCache(get_wsgi_application())

# Whatever is loaded by now (Django, the apps, their modules) lives as long as the process: the
# cycle collector need never look at it again, and with a higher first threshold it runs a tenth
# as often. A full collection holds every server thread at once, which shows in the slowest
# requests under load (figures: docs/decisions/0008-framework-public-api.md).
gc.freeze()
gc.set_threshold(GC_FIRST_THRESHOLD, 10, 10)
