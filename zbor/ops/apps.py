from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "zbor.ops"
    verbose_name = "Operations"
