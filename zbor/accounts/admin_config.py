"""Django's admin, with Zbor's site (rate-limited, two-factor sign-in) as the default site.

Kept apart from admin_site.py: this module is imported while apps load, before models exist.
"""

from django.contrib.admin.apps import AdminConfig


class ZborAdminConfig(AdminConfig):
    default_site = "zbor.accounts.admin_site.ZborAdminSite"
