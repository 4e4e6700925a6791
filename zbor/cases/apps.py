from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "zbor.cases"
    verbose_name = _("Casework")

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from zbor.crypto import register_encrypted

        from . import keys, keys_admin, programme_admin  # noqa: F401  (they register the admin screens)
        from .models import Case, CaseCheck, CaseDecision, CaseDocument, CaseMessage, CaseNote
        from .sealing import register_sealed

        # What this app seals to the foundation key (zbor.cases.sealing), for the rotation of
        # that key (zbor.cases.keys.rotate).
        register_sealed(Case, fields=("answers",))
        register_sealed(CaseDocument, fields=("meta",), file_field="stored_name")
        # A caseworker's free text to the applicant is sealed twice: to the foundation key
        # (``body``) and to the applicant's own key (``body_for_applicant``), which a rotation of
        # the foundation key cannot open and must not touch.
        register_sealed(CaseMessage, fields=("body",), applicant_fields=("body_for_applicant",))
        register_sealed(CaseNote, fields=("body",))
        register_sealed(CaseCheck, fields=("note",))
        register_sealed(CaseDecision, fields=("reason",))
        # A document's sealed bytes are stored with zbor.private_files, which encrypts them once
        # more with ZBOR_ENCRYPTION_KEYS: the rotation of those keys must rotate them too.
        register_encrypted(CaseDocument, file_field="stored_name")
        # The periodic clean-up of expired unlocks (huey registers it on import; zbor/cases/tasks.py
        # is the casework screens' own).
        from . import unlock_tasks  # noqa: F401

        # Signing out locks casework (the unlocked key's server half is deleted).
        user_logged_out.connect(keys.lock_on_logout, dispatch_uid="zbor.cases.lock_on_logout")
