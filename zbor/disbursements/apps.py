from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisbursementsConfig(AppConfig):
    name = "zbor.disbursements"
    verbose_name = _("Payouts")

    def ready(self):
        from zbor.campaigns.floors import register_need_floor
        from zbor.campaigns.private import private_data_purged
        from zbor.crypto import register_encrypted

        from .models import PURGED, Payout
        from .selectors import committed_by_need
        from .services import purge_payout_details

        # What this app encrypts, for the key rotation (zbor/accounts/keys.py).
        register_encrypted(
            Payout, fields=("recipient_secret", "crypto_proof_secret"), file_field="proof_name", not_files=("", PURGED)
        )
        # Purging a beneficiary's private data (zbor.campaigns.private) purges their payouts' too.
        private_data_purged.connect(purge_payout_details, dispatch_uid="zbor.disbursements.purge_payout_details")
        # A need's amount may not go below what was paid out or is on its way for it.
        register_need_floor(committed_by_need)
