"""Staff roles as Django groups, defined here in code and synced after every migrate.

    editor   beneficiaries (with their private data), campaigns, stories, translations, notes,
             updates; reviews and approves other editors' campaigns; moderates words of support
             (the "words of support" screen: campaign, public name, message; never donations,
             amounts, times, emails or payment ids)
    finance  donations, bank statements and banks' CSV layouts, payment events, the ledger
             (read), payouts (request, approve others', mark paid, with recipient details),
             exports, credit notes (read, send again); decides on money whose amount differs from
             its pledge (accept as received, split, or return), resolves the unmatched queue,
             requests and approves (others') refunds, and moves of money between needs and
             campaigns; monthly gifts (read, stop); campaigns and needs to read only, never a beneficiary's identity
    admin    people, the audit log, approving campaigns flagged at risk, emergency unpublish;
             asks for and decides (as the second admin) changes of roles and password resets;
             banks' CSV layouts; no donor data (no donations, words of support or payment events);
             the casework programmes and their questions (plain text), never a case
    caseworker applications for help (zbor.cases): unlocks the foundation key with their own
             passphrase, reads cases, notes, checks them, proposes and confirms (others')
             decisions, asks applicants questions, purges; adds and removes caseworkers.
             Admins and editors read no case unless they hold this role too.

A person may hold several roles. Superusers bypass all of this: they are break-glass accounts,
kept sealed and used only when no two admins can act (docs/back-office.md), so production staff
should not be superusers.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

CRUD = ("add", "change", "view")

ROLES: dict[str, list[str]] = {
    "editor": [
        *(f"campaigns.{a}_{m}" for m in ("campaign", "beneficiary", "need", "note", "update") for a in CRUD),
        "campaigns.delete_need",
        "campaigns.delete_note",
        "campaigns.delete_update",
        "campaigns.view_beneficiary_private",
        "campaigns.change_beneficiary_private",
        "campaigns.approve_campaign",
        # Words of support without the donation around them: no amount, time, email or payment id.
        "donations.view_wordsofsupport",
        "donations.moderate_messages",
    ],
    "finance": [
        "donations.view_donation",
        "donations.export_donations",
        "donations.resend_receipt",
        "donations.view_creditnote",
        "donations.add_bankstatement",
        "donations.view_bankstatement",
        "donations.view_bankstatementline",
        "donations.change_bankstatementline",
        "donations.decide_amount",
        "donations.view_refund",
        "donations.add_refund",
        "donations.approve_refund",
        "donations.view_paymentinreview",
        # Monthly gifts: the list (never the email) and stopping one.
        "donations.view_monthlygift",
        "donations.stop_monthly",
        "payments.view_paymenteventrecord",
        *(f"payments.{a}_statementlayout" for a in CRUD),
        "ledger.view_account",
        "ledger.view_transfergroup",
        "ledger.export_ledger",
        "disbursements.add_payout",
        "disbursements.view_payout",
        "disbursements.change_payout",
        "disbursements.approve_payout",
        "disbursements.view_payout_recipient",
        "disbursements.export_payouts",
        "disbursements.view_move",
        "disbursements.add_move",
        "disbursements.approve_move",
        "campaigns.view_campaign",
        "campaigns.view_need",
    ],
    "admin": [
        *(f"auth.{a}_user" for a in CRUD),
        "auth.view_group",
        "accounts.view_auditevent",
        "api.view_apitoken",
        "api.change_apitoken",
        "accounts.export_auditevent",
        "accounts.view_staffchangerequest",
        "accounts.request_staff_change",
        "accounts.decide_staff_change",
        "campaigns.view_campaign",
        "campaigns.approve_risky_campaign",
        "campaigns.emergency_unpublish",
        # A bank's CSV layout holds no donor data: admins may set one up for finance.
        *(f"payments.{a}_statementlayout" for a in CRUD),
        # Casework programmes and their questions are plain text; admins set them up.
        *(f"cases.{a}_{m}" for m in ("programme", "question") for a in CRUD),
    ],
    "caseworker": [
        "cases.unlock_casework",
        "cases.manage_caseworkers",
        "cases.view_caseworkerkey",
        "cases.view_programme",
        "cases.view_question",
        "cases.view_case",
        "cases.change_case",
        "cases.read_case",
        "cases.decide_case",
        "cases.purge_case",
        *(
            f"cases.{a}_{m}"
            for m in ("casenote", "casemessage", "casecheck", "casedecision", "casedocument")
            for a in CRUD
        ),
    ],
}


def _permission(dotted: str) -> Permission:
    app_label, codename = dotted.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def sync_roles() -> None:
    """Make each role group hold exactly the permissions listed above."""
    for name, permissions in ROLES.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set([_permission(p) for p in permissions])


def sync_roles_after_migrate(sender, **kwargs) -> None:
    # Runs once per app; only the last app's signal sees every permission created.
    if sender.name != "zbor.accounts":
        return
    try:
        sync_roles()
    except Permission.DoesNotExist:
        pass  # an app whose permissions are not created yet; the next migrate completes it
