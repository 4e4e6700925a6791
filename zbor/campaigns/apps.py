from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "zbor.campaigns"
    verbose_name = _("Campaigns")

    def ready(self):
        from zbor.crypto import register_encrypted

        from .models import Beneficiary, BeneficiaryDocument

        # What this app encrypts, for the key rotation (zbor/accounts/keys.py).
        register_encrypted(Beneficiary, fields=("real_name_secret", "contacts_secret", "verification_notes_secret"))
        register_encrypted(BeneficiaryDocument, fields=("label_secret",), file_field="stored_name")
