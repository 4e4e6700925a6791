"""Issue 14: every back-office address × every role, compared with a table of what each role may do.

The walk reads the admin site's own URL patterns, so a new admin screen or custom view that has
no row in TABLE fails the test: whoever adds a URL decides, here, who may open it. Each URL that
names a record is opened with a real record's id AND an id that does not exist; a role that may
not see the record must get the same answer for both (403), so records cannot be counted.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tests import factories
from tests.backoffice import admin_requests, every_kind_of_record

pytestmark = pytest.mark.django_db

ROLES = ["none", "editor", "finance", "admin"]

# One row per admin URL (its name, or its route when unnamed; custom views with a variable part
# have a row per value). Columns: the status each role gets, "real/missing" where the URL names a
# record (a refusal is the same 403 for both). 302 on a missing record is Django's "does not
# exist" redirect, shown only to roles that may see that kind of record.
TABLE = """
# the site
# url                                                none     editor   finance  admin
index                                                200      200      200      200
login                                                302      302      302      302
logout                                               405      405      405      405
password_change                                      200      200      200      200
password_change_done                                 200      200      200      200
autocomplete                                         403      403      403      403
autocomplete:campaign.beneficiary                    403      200      403      403
autocomplete:update.campaign                         403      200      200      200
jsi18n                                               200      200      200      200
view_on_site                                         404/404  404/404  404/404  404/404

campaigns_campaign_delete_translation                403/403  403/403  403/403  403/403
campaigns_campaign_changelist                        403      200      200      200
campaigns_campaign_add                               403      200      403      403
campaigns_campaign_history                           403/403  200/302  200/302  200/302
campaigns_campaign_delete                            403/403  403/403  403/403  403/403
campaigns_campaign_change                            403/403  200/302  200/302  200/302
campaigns/campaign/<path:object_id>/                 302/302  302/302  302/302  302/302
campaigns_beneficiary_document                       403/403  200/404  403/403  403/403
campaigns_beneficiary_delete_translation             403/403  403/403  403/403  403/403
campaigns_beneficiary_changelist                     403      200      403      403
campaigns_beneficiary_add                            403      200      403      403
campaigns_beneficiary_history                        403/403  200/302  403/403  403/403
campaigns_beneficiary_delete                         403/403  403/403  403/403  403/403
campaigns_beneficiary_change                         403/403  200/302  403/403  403/403
campaigns/beneficiary/<path:object_id>/              302/302  302/302  302/302  302/302
campaigns_note_delete_translation                    403/403  200/404  403/403  403/403
campaigns_note_changelist                            403      200      403      403
campaigns_note_add                                   403      200      403      403
campaigns_note_history                               403/403  200/302  403/403  403/403
campaigns_note_delete                                403/403  200/302  403/403  403/403
campaigns_note_change                                403/403  200/302  403/403  403/403
campaigns/note/<path:object_id>/                     302/302  302/302  302/302  302/302
campaigns_update_delete_translation                  403/403  403/404  403/403  403/403
campaigns_update_changelist                          403      200      403      403
campaigns_update_add                                 403      200      403      403
campaigns_update_history                             403/403  200/302  403/403  403/403
campaigns_update_delete                              403/403  403/302  403/403  403/403
campaigns_update_change                              403/403  200/302  403/403  403/403
campaigns/update/<path:object_id>/                   302/302  302/302  302/302  302/302
campaigns_campaign_review                            403/403  404/404  403/403  404/404
campaigns_stagedtext_changelist                      403      200      403      200
campaigns_stagedtext_add                             403      403      403      403
campaigns_stagedtext_history                         403/403  200/302  403/403  200/302
campaigns_stagedtext_delete                          403/403  403/403  403/403  403/403
campaigns_stagedtext_change                          403/403  200/302  403/403  200/302
campaigns/stagedtext/<path:object_id>/               302/302  302/302  302/302  302/302

ledger_account_changelist                            403      403      200      403
ledger_account_add                                   403      403      403      403
ledger_account_history                               403/403  403/403  200/302  403/403
ledger_account_delete                                403/403  403/403  403/403  403/403
ledger_account_change                                403/403  403/403  200/302  403/403
ledger/account/<path:object_id>/                     302/302  302/302  302/302  302/302
ledger_transfergroup_changelist                      403      403      200      403
ledger_transfergroup_add                             403      403      403      403
ledger_transfergroup_history                         403/403  403/403  200/302  403/403
ledger_transfergroup_delete                          403/403  403/403  403/403  403/403
ledger_transfergroup_change                          403/403  403/403  200/302  403/403
ledger/transfergroup/<path:object_id>/               302/302  302/302  302/302  302/302

payments_paymenteventrecord_changelist               403      403      200      403
payments_paymenteventrecord_add                      403      403      403      403
payments_paymenteventrecord_history                  403/403  403/403  200/302  403/403
payments_paymenteventrecord_delete                   403/403  403/403  403/403  403/403
payments_paymenteventrecord_change                   403/403  403/403  200/302  403/403
payments/paymenteventrecord/<path:object_id>/        302/302  302/302  302/302  302/302
payments_statementlayout_changelist                  403      403      200      200
payments_statementlayout_add                         403      403      200      200
payments_statementlayout_history                     403/403  403/403  200/302  200/302
payments_statementlayout_delete                      403/403  403/403  403/403  403/403
payments_statementlayout_change                      403/403  403/403  200/302  200/302
payments/statementlayout/<path:object_id>/           302/302  302/302  302/302  302/302

accounts_auditevent_export                           403      403      403      200
accounts_auditevent_changelist                       403      403      403      200
accounts_auditevent_add                              403      403      403      403
accounts_auditevent_history                          403/403  403/403  403/403  200/302
accounts_auditevent_delete                           403/403  403/403  403/403  403/403
accounts_auditevent_change                           403/403  403/403  403/403  200/302
accounts/auditevent/<path:object_id>/                302/302  302/302  302/302  302/302

accounts_staffchangerequest_roles                    403/403  403/403  403/403  200/404
accounts_staffchangerequest_password                 403/403  403/403  403/403  200/404
accounts_staffchangerequest_decide                   403/403  403/403  403/403  200/404
accounts_staffchangerequest_changelist               403      403      403      200
accounts_staffchangerequest_add                      403      403      403      403
accounts_staffchangerequest_history                  403/403  403/403  403/403  200/302
accounts_staffchangerequest_delete                   403/403  403/403  403/403  403/403
accounts_staffchangerequest_change                   403/403  403/403  403/403  200/302
accounts/staffchangerequest/<path:object_id>/        302/302  302/302  302/302  302/302

# enrolment links are opened signed out; one that is not valid is gone (410) for everyone
enrol                                                410      410      410      410
enrol_start                                          410      410      410      410
auth_user_two_factor                                 403/403  403/403  403/403  200/404
auth_user_password_change                            403/403  403/403  403/403  403/403
auth_user_changelist                                 403      403      403      200
auth_user_add                                        403      403      403      200
auth_user_history                                    403/403  403/403  403/403  200/302
auth_user_delete                                     403/403  403/403  403/403  403/403
auth_user_change                                     403/403  403/403  403/403  200/302
auth/user/<path:object_id>/                          302/302  302/302  302/302  302/302
auth_group_changelist                                403      403      403      200
auth_group_add                                       403      403      403      403
auth_group_history                                   403/403  403/403  403/403  200/302
auth_group_delete                                    403/403  403/403  403/403  403/403
auth_group_change                                    403/403  403/403  403/403  200/302
auth/group/<path:object_id>/                         302/302  302/302  302/302  302/302

accounts_authenticatordevice_changelist              403      403      403      403
accounts_authenticatordevice_add                     403      403      403      403
accounts_authenticatordevice_history                 403/403  403/403  403/403  403/403
accounts_authenticatordevice_delete                  403/403  403/403  403/403  403/403
accounts_authenticatordevice_change                  403/403  403/403  403/403  403/403
accounts/authenticatordevice/<path:object_id>/       302/302  302/302  302/302  302/302
accounts_recoverycodedevice_changelist               403      403      403      403
accounts_recoverycodedevice_add                      403      403      403      403
accounts_recoverycodedevice_history                  403/403  403/403  403/403  403/403
accounts_recoverycodedevice_delete                   403/403  403/403  403/403  403/403
accounts_recoverycodedevice_change                   403/403  403/403  403/403  403/403
accounts/recoverycodedevice/<path:object_id>/        302/302  302/302  302/302  302/302

donations_export                                     403      403      200      403
donations_donation_changelist                        403      403      200      403
donations_donation_add                               403      403      403      403
donations_donation_history                           403/403  403/403  200/302  403/403
donations_donation_delete                            403/403  403/403  403/403  403/403
donations_donation_change                            403/403  403/403  200/302  403/403
donations/donation/<path:object_id>/                 302/302  302/302  302/302  302/302
donations_wordsofsupport_changelist                  403      200      403      403
donations_wordsofsupport_add                         403      403      403      403
donations_wordsofsupport_history                     403/403  200/302  403/403  403/403
donations_wordsofsupport_delete                      403/403  403/403  403/403  403/403
donations_wordsofsupport_change                      403/403  200/302  403/403  403/403
donations/wordsofsupport/<path:object_id>/           302/302  302/302  302/302  302/302
donations_bankstatement_import                       403      403      200      403
donations_bankstatement_changelist                   403      403      200      403
donations_bankstatement_add                          403      403      403      403
donations_bankstatement_history                      403/403  403/403  200/302  403/403
donations_bankstatement_delete                       403/403  403/403  403/403  403/403
donations_bankstatement_change                       403/403  403/403  200/302  403/403
donations/bankstatement/<path:object_id>/            302/302  302/302  302/302  302/302
donations_bankstatementline_changelist               403      403      200      403
donations_bankstatementline_add                      403      403      403      403
donations_bankstatementline_history                  403/403  403/403  200/302  403/403
donations_bankstatementline_delete                   403/403  403/403  403/403  403/403
donations_bankstatementline_change                   403/403  403/403  200/302  403/403
donations/bankstatementline/<path:object_id>/        302/302  302/302  302/302  302/302
donations_paymentinreview_changelist                 403      403      200      403
donations_paymentinreview_add                        403      403      403      403
donations_paymentinreview_history                    403/403  403/403  200/302  403/403
donations_paymentinreview_delete                     403/403  403/403  403/403  403/403
donations_paymentinreview_change                     403/403  403/403  200/302  403/403
donations/paymentinreview/<path:object_id>/          302/302  302/302  302/302  302/302
donations_refund_changelist                          403      403      200      403
donations_refund_add                                 403      403      200      403
donations_refund_history                             403/403  403/403  200/302  403/403
donations_refund_delete                              403/403  403/403  403/403  403/403
donations_refund_change                              403/403  403/403  200/302  403/403
donations/refund/<path:object_id>/                   302/302  302/302  302/302  302/302
donations_monthlygift_annual_summary                 403/403  403/403  200/404  403/403
donations_monthlygift_changelist                     403      403      200      403
donations_monthlygift_add                            403      403      403      403
donations_monthlygift_history                        403/403  403/403  200/302  403/403
donations_monthlygift_delete                         403/403  403/403  403/403  403/403
donations_monthlygift_change                         403/403  403/403  200/302  403/403
donations/monthlygift/<path:object_id>/              302/302  302/302  302/302  302/302
donations_creditnote_pdf                             403/403  403/403  200/404  403/403
donations_creditnote_changelist                      403      403      200      403
donations_creditnote_add                             403      403      403      403
donations_creditnote_history                         403/403  403/403  200/302  403/403
donations_creditnote_delete                          403/403  403/403  403/403  403/403
donations_creditnote_change                          403/403  403/403  200/302  403/403
donations/creditnote/<path:object_id>/               302/302  302/302  302/302  302/302

disbursements_payout_request                         403      403      200      403
disbursements_payout_act:approve                     403/403  403/403  200/404  403/403
disbursements_payout_act:reject                      403/403  403/403  200/404  403/403
disbursements_payout_act:cancel                      403/403  403/403  200/404  403/403
disbursements_payout_act:pay                         403/403  403/403  200/404  403/403
disbursements_payout_act:nonsense                    403/403  403/403  404/404  403/403
disbursements_payout_proof                           403/403  403/403  200/404  403/403
disbursements_payout_changelist                      403      403      200      403
disbursements_payout_add                             403      403      403      403
disbursements_payout_history                         403/403  403/403  200/302  403/403
disbursements_payout_delete                          403/403  403/403  403/403  403/403
disbursements_payout_change                          403/403  403/403  200/302  403/403
disbursements/payout/<path:object_id>/               302/302  302/302  302/302  302/302
disbursements_move_changelist                        403      403      200      403
disbursements_move_add                               403      403      200      403
disbursements_move_history                           403/403  403/403  200/302  403/403
disbursements_move_delete                            403/403  403/403  403/403  403/403
disbursements_move_change                            403/403  403/403  200/302  403/403
disbursements/move/<path:object_id>/                 302/302  302/302  302/302  302/302

api_apitoken_changelist                              403      403      403      200
api_apitoken_add                                     403      403      403      403
api_apitoken_history                                 403/403  403/403  403/403  200/302
api_apitoken_delete                                  403/403  403/403  403/403  403/403
api_apitoken_change                                  403/403  403/403  403/403  200/302
api/apitoken/<path:object_id>/                       302/302  302/302  302/302  302/302

app_list:campaigns                                   404      200      200      200
app_list:ledger                                      404      404      200      404
app_list:payments                                    404      404      200      200
app_list:accounts                                    404      404      404      200
app_list:auth                                        404      404      404      200
app_list:donations                                   404      200      200      404
app_list:disbursements                               404      404      200      404
app_list:api                                         404      404      404      200
app_list:cases                                       404      404      404      200

# programmes people apply to (zbor/cases/programme_admin.py): admins set them up, and close
# one rather than delete it (its applications keep naming it)
cases_programme_delete_translation                   403/403  403/403  403/403  403/403
cases_programme_changelist                           403      403      403      200
cases_programme_add                                  403      403      403      200
cases_programme_history                              403/403  403/403  403/403  200/302
cases_programme_delete                               403/403  403/403  403/403  403/403
cases_programme_change                               403/403  403/403  403/403  200/302
cases/programme/<path:object_id>/                    302/302  302/302  302/302  302/302

# casework (zbor/cases/case_admin.py): caseworkers only; their answers are in
# zbor/cases/tests/test_casework_roles.py, which walks the caseworker role too
cases_case_report                                    403      403      403      403
cases_case_act:note                                  403/403  403/403  403/403  403/403
cases_case_act:ask                                   403/403  403/403  403/403  403/403
cases_case_act:check                                 403/403  403/403  403/403  403/403
cases_case_act:propose                               403/403  403/403  403/403  403/403
cases_case_act:confirm                               403/403  403/403  403/403  403/403
cases_case_act:withdraw                              403/403  403/403  403/403  403/403
cases_case_act:campaign                              403/403  403/403  403/403  403/403
cases_case_act:grant                                 403/403  403/403  403/403  403/403
cases_case_act:close                                 403/403  403/403  403/403  403/403
cases_case_act:purge                                 403/403  403/403  403/403  403/403
cases_case_act:nonsense                              403/403  403/403  403/403  403/403
cases_case_document                                  403/403  403/403  403/403  403/403
cases_case_changelist                                403      403      403      403
cases_case_add                                       403      403      403      403
cases_case_history                                   403/403  403/403  403/403  403/403
cases_case_delete                                    403/403  403/403  403/403  403/403
cases_case_change                                    403/403  403/403  403/403  403/403
cases/case/<path:object_id>/                         302/302  302/302  302/302  302/302

# casework keys (zbor/cases/keys_admin.py): caseworkers only
cases_unlock                                         403      403      403      403
cases_lock                                           403      403      403      403
cases_add_caseworker                                 403      403      403      403
cases_caseworkerkey_changelist                       403      403      403      403
cases_caseworkerkey_add                              403      403      403      403
cases_caseworkerkey_history                          403/403  403/403  403/403  403/403
cases_caseworkerkey_delete                           403/403  403/403  403/403  403/403
cases_caseworkerkey_change                           403/403  403/403  403/403  403/403
cases/caseworkerkey/<path:object_id>/                302/302  302/302  302/302  302/302

(?P<url>.*)$                                         404      404      404      404
"""


def _table() -> dict[str, dict[str, str]]:
    rows = {}
    for line in TABLE.strip().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, *codes = line.split()
        assert len(codes) == len(ROLES), line
        assert key not in rows, f"two rows for {key}"
        rows[key] = dict(zip(ROLES, codes, strict=True))
    return rows


def _user(role):
    return factories.staff_user(superuser=False) if role == "none" else factories.role_user(role)


def _observe(client, records) -> dict[str, dict[str, str]]:
    observed: dict[str, dict[str, str]] = {}
    requests = admin_requests(records)
    for role in ROLES:
        client.force_login(_user(role))
        for key, urls in requests:
            observed.setdefault(key, {})[role] = "/".join(str(client.get(url).status_code) for url in urls)
    return observed


def test_every_admin_url_answers_each_role_as_the_table_says():
    client = Client(raise_request_exception=False)  # a 500 is an answer the table never allows
    records = every_kind_of_record()
    table = _table()
    observed = _observe(client, records)
    lines = [f"{key:60} " + " ".join(f"{observed[key][r]:8}" for r in ROLES) for key in observed]
    print("\n".join(lines))
    missing_rows = sorted(set(observed) - set(table))
    assert missing_rows == [], "admin URLs without a row in TABLE (say who may open them)"
    assert sorted(set(table) - set(observed)) == [], "rows in TABLE for URLs that no longer exist"
    differences = {key: (table[key], observed[key]) for key in table if table[key] != observed[key]}
    assert differences == {}


# The staff API (docs/api.md): method, path, the status each role's token gets (a token with
# every scope, owned by a staff member holding only that role).
API_TABLE = """
# method  path                                   none  editor  finance  admin
POST      /api/v1/staff/bank-statements           403   403     200      403
GET       /api/v1/staff/donations/pending-bank    403   403     200      403
"""


def _api_table():
    rows = {}
    for line in API_TABLE.strip().splitlines():
        if line.startswith("#"):
            continue
        method, path, *codes = line.split()
        rows[(method, path)] = dict(zip(ROLES, codes, strict=True))
    return rows


def test_every_staff_api_endpoint_is_in_the_api_table():
    from zbor.api.views import api

    routes = set()
    for prefix, router in api._routers:
        for path, operations in router.path_operations.items():
            for operation in operations.operations:
                for method in operation.methods:
                    if "staff" in prefix:
                        routes.add((method, "/api/v1/" + (prefix.strip("/") + "/" + path.strip("/")).strip("/")))
    assert routes == set(_api_table())


def test_every_staff_api_endpoint_answers_each_role_as_the_table_says():
    from django.contrib.auth.models import Group
    from django.core.files.uploadedfile import SimpleUploadedFile

    from zbor.api.models import Scope
    from zbor.api.tokens import create_token

    every_kind_of_record()
    observed = {}
    client = Client(raise_request_exception=False)
    for role in ROLES:
        # Only a role that may do the work can make a token: each is made by finance, then its
        # owner is given the role walked (a token follows its owner's current role).
        owner = factories.role_user("finance")
        _record, token = create_token(owner, name=f"walk {role}", scopes=list(Scope.values))
        owner.groups.set(Group.objects.filter(name=role))
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        for method, path in _api_table():
            if method == "POST":
                statement = SimpleUploadedFile(
                    "s.csv",
                    b"date,amount,currency,reference,transaction_id\n2026-01-06,5.00,EUR,NOPE,tx-"
                    + role.encode()
                    + b"\n",
                )
                response = client.post(path, {"file": statement}, **auth)
            else:
                response = client.get(path, **auth)
            observed.setdefault((method, path), {})[role] = str(response.status_code)
    assert observed == _api_table()
