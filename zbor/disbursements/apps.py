from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisbursementsConfig(AppConfig):
    name = "zbor.disbursements"
    verbose_name = _("Payouts")

    def ready(self):
        from zbor.campaigns.private import private_data_purged
        from zbor.crypto import register_encrypted

        from .models import PURGED, Payout
        from .services import purge_payout_details

        # What this app encrypts, for the key rotation (zbor/accounts/keys.py).
        register_encrypted(Payout, fields=("recipient_secret",), file_field="proof_name", not_files=("", PURGED))
        # Purging a beneficiary's private data (zbor.campaigns.private) purges their payouts' too.
        private_data_purged.connect(purge_payout_details, dispatch_uid="zbor.disbursements.purge_payout_details")
