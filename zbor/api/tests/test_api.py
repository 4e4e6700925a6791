"""The public JSON API: what it answers, how it caches, and that nothing private can appear."""

import pytest

from tests import factories
from tests.helpers import DEMO
from zbor.campaigns import private
from zbor.campaigns.models import Campaign, Status

pytestmark = pytest.mark.django_db

# Every field the API may ever return. A new field must be added here on purpose.
PUBLIC_FIELDS = {
    "count",
    "page",
    "pages",
    "results",
    "slug",
    "url",
    "language",
    "requested_language",
    "is_fallback",
    "summary_language",
    "title",
    "summary",
    "display_name",
    "name_is_pseudonym",
    "category",
    "category_label",
    "status",
    "location",
    "published_at",
    "kind",
    "yearly_target",
    "goal",
    "collected",
    "amount",
    "currency",
    "formatted",
    "story_language",
    "story_is_translation",
    "story_markdown",
    "story_html",
    "beyond_goal",
    "moved_to_other_campaigns",
    "moved_from_other_campaigns",
    "needs",
    "description",
    "updates",
    "date",
    "body_html",
    "spending",
    "need",
    "channel",
    "receipt_checked",
    "paid_out",
    "held",
    "campaigns",
}


def walk(value, path=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield path + "." + key, key, item
            yield from walk(item, path + "." + key)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item, path + "[]")


def test_campaign_list_detail_and_totals_in_every_language(client, demo):
    for language in ("en", "ru", "be", "pl"):
        listing = client.get(f"/api/v1/campaigns?lang={language}").json()
        assert listing["count"] == 7 and {c["slug"] for c in listing["results"]} >= {DEMO}
        detail = client.get(f"/api/v1/campaigns/{DEMO}?lang={language}").json()
        assert detail["goal"]["amount"] == 200000 and detail["collected"]["amount"] == 68300
        assert [n["amount"]["amount"] for n in detail["needs"]] == [50000, 50000, 100000]
        assert "<aside" in detail["story_html"] and "[[note:" not in detail["story_markdown"]
    assert client.get(f"/api/v1/campaigns/{DEMO}?lang=en").json()["collected"]["formatted"] == "€683"
    totals = {t["currency"]: t for t in client.get("/api/v1/totals").json()}
    assert totals["EUR"]["paid_out"]["amount"] == 150000


def test_filters_sorting_and_pagination_match_the_site(client, demo, settings):
    assert [c["slug"] for c in client.get("/api/v1/campaigns?category=legal_aid").json()["results"]] == [
        "lawyer-for-an-appeal"
    ]
    assert client.get("/api/v1/campaigns?sort=most_needed").json()["results"][0]["slug"] == DEMO
    settings.ZBOR_CAMPAIGNS_PER_PAGE = 2
    page = client.get("/api/v1/campaigns?page=4").json()
    assert page["pages"] == 4 and len(page["results"]) == 1


@pytest.mark.parametrize("query", ["lang=xx", "page=0", "sort=drop", "status=draft", "category=nope", "page=abc"])
def test_bad_parameters_are_a_clear_4xx(client, demo, query):
    response = client.get(f"/api/v1/campaigns?{query}")
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    ("path", "unknown", "takes"),
    [
        (f"/api/v1/campaigns/{DEMO}?lang=pl&x=8d1f", ["x"], "lang"),
        (
            "/api/v1/campaigns?page=1&utm_source=feed&_=1732900000",
            ["utm_source", "_"],
            "category, lang, page, sort, status",
        ),
        ("/api/v1/totals?nocache=1", ["nocache"], "lang"),
    ],
)
def test_query_parameters_an_endpoint_does_not_take_are_refused(client, demo, path, unknown, takes):
    """Each random parameter would be a new answer to every cache, built anew: refused at once."""
    response = client.get(path)
    assert response.status_code == 422 and "public" not in response.get("Cache-Control", "")
    assert [(e["loc"], e["msg"]) for e in response.json()["detail"]] == [
        (["query", name], f"Unknown query parameter. This endpoint takes: {takes}.") for name in unknown
    ]
    assert response["Access-Control-Allow-Origin"] == "*"
    documented = (
        path.split("?")[0] + "?" + "&".join(p for p in path.split("?")[1].split("&") if p.split("=")[0] not in unknown)
    )
    assert client.get(documented).status_code == 200


def test_drafts_and_withdrawn_campaigns_do_not_exist_in_the_api(client, demo):
    assert client.get("/api/v1/campaigns/first-months-in-lithuania").status_code == 404
    campaign = Campaign.objects.get(slug=DEMO)
    Campaign.objects.filter(pk=campaign.pk).update(status=Status.WITHDRAWN)
    assert client.get(f"/api/v1/campaigns/{DEMO}").status_code == 404
    assert DEMO not in client.get("/api/v1/campaigns").content.decode()


def test_answers_are_cacheable_with_etag_and_304_and_never_date_a_donation(client, demo):
    first = client.get("/api/v1/campaigns")
    assert first["Cache-Control"].startswith("public, max-age=") and first["Access-Control-Allow-Origin"] == "*"
    assert first.has_header("ETag")
    assert not first.has_header("Last-Modified")  # it would be the newest donation's time
    assert "Accept-Language" not in first.get("Vary", "")  # the language is ?lang=: one public document
    assert client.get("/api/v1/campaigns", headers={"if-none-match": first["ETag"]}).status_code == 304
    assert client.post("/api/v1/campaigns").status_code == 405


def test_no_response_holds_anything_private(client, demo):
    editor = factories.role_user("editor")
    beneficiary = Campaign.objects.get(slug=DEMO).beneficiary
    private.write_private(beneficiary, by=editor, real_name="Pavel Realname", contacts="+995 555 000")
    secrets = ["Pavel Realname", "+995", "B-0001", "B-0003", "Demo law office", "Demo payout", "demo-reviewer", "@"]
    paths = ["/api/v1/campaigns", "/api/v1/totals"] + [
        f"/api/v1/campaigns/{slug}"
        for slug in Campaign.objects.filter(status__in=["published", "funded", "closed"]).values_list(
            "slug", flat=True
        )
    ]
    for path in paths:
        for language in ("en", "ru"):
            body = client.get(f"{path}?lang={language}").json()
            for where, key, value in walk(body):
                assert key in PUBLIC_FIELDS, f"{path} returns an unlisted field {where}"
                if isinstance(value, str):
                    assert not any(secret in value for secret in secrets), (path, where)


def test_the_openapi_document_and_the_docs_page_load_nothing_from_elsewhere(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.") and "/api/v1/campaigns/{slug}" in schema["paths"]
    docs = client.get("/api/v1/docs").content.decode()
    assert "cdn." not in docs and "https://" not in docs.split("<body")[0]


def _token(scopes, username="bank-sync"):
    from zbor.api.tokens import create_token

    user = factories.role_user("finance", username)
    return create_token(user, name="bank sync", scopes=scopes)


def test_staff_tokens_are_hashed_scoped_revocable_and_audited(client, demo):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from zbor.accounts.models import AuditEvent
    from zbor.api.models import ApiToken
    from zbor.api.tokens import revoke_token
    from zbor.donations.models import Donation

    record, token = _token(["donations:pending:read", "bank_statements:import"])
    assert token not in str(list(ApiToken.objects.values()))  # only its hash is stored
    client.post(f"/en/campaigns/{DEMO}/donate/", {"amount": "40", "method": "bank", "idempotency_key": "k" * 32})
    auth = {"authorization": f"Bearer {token}"}
    pending = client.get("/api/v1/staff/donations/pending-bank", headers=auth)
    assert pending.status_code == 200 and pending["Cache-Control"] == "no-store"
    [row] = pending.json()
    assert row["amount"] == 4000 and row["campaign"] == DEMO and "@" not in str(row)
    statement = f"date,amount,currency,reference,transaction_id\n2026-11-28,40.00,EUR,{row['reference']},T1\n".encode()
    imported = client.post(
        "/api/v1/staff/bank-statements", {"file": SimpleUploadedFile("s.csv", statement)}, headers=auth
    )
    assert imported.status_code == 200 and imported.json()["matched"] == 1
    assert Donation.objects.get(provider="bank").status == "succeeded"
    bad = client.post(
        "/api/v1/staff/bank-statements", {"file": SimpleUploadedFile("s.csv", b"nonsense")}, headers=auth
    )
    assert bad.status_code == 400 and "Nothing was imported" in bad.json()["detail"]
    unknown = client.post(
        "/api/v1/staff/bank-statements",
        {"file": SimpleUploadedFile("s.csv", statement), "layout": "No such bank"},
        headers=auth,
    )
    assert unknown.status_code == 400 and "no CSV layout" in unknown.json()["detail"]
    assert AuditEvent.objects.filter(action="api.bank_statement.import", actor=record.user).exists()
    assert AuditEvent.objects.filter(action="api.donations.pending", actor=record.user).exists()
    revoke_token(record, by=None)
    assert client.get("/api/v1/staff/donations/pending-bank", headers=auth).status_code == 401


def test_a_bank_csv_is_imported_through_the_api_with_its_saved_layout(client, demo):
    from pathlib import Path

    from django.core.files.uploadedfile import SimpleUploadedFile

    from zbor.donations.models import BankStatementLine
    from zbor.payments.models import StatementLayout

    layout = StatementLayout.objects.create(
        name="mBank",
        thousands_separator=" ",
        encoding="cp1250",
        date_format="%Y-%m-%d",
        header_line=6,
        date_column="Data operacji",
        amount_column="Kwota",
        currency_column="Waluta",
        reference_columns="Tytuł",
        transaction_id_column="Nr transakcji",
    )
    _record, token = _token(["bank_statements:import"], username="csv-importer")
    data = (Path(__file__).resolve().parents[2] / "payments/tests/samples/pl_bank_cp1250.csv").read_bytes()
    imported = client.post(
        "/api/v1/staff/bank-statements",
        {"file": SimpleUploadedFile("wyciag.csv", data), "layout": "mBank"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert imported.status_code == 200 and imported.json()["new"] == 3
    assert BankStatementLine.objects.filter(key__startswith=f"csv-layout{layout.pk}:").count() == 3


def test_staff_tokens_only_do_what_their_scope_says(client, demo):
    _record, token = _token(["donations:pending:read"], username="reader")
    auth = {"authorization": f"Bearer {token}"}
    assert client.get("/api/v1/staff/donations/pending-bank", headers=auth).status_code == 200
    assert client.post("/api/v1/staff/bank-statements", {}, headers=auth).status_code in (403, 422)
    assert client.get("/api/v1/staff/donations/pending-bank").status_code == 401
    assert (
        client.get("/api/v1/staff/donations/pending-bank", headers={"authorization": "Bearer zbor_wrong"}).status_code
        == 401
    )


def test_create_api_token_command_prints_the_token_once(demo):
    import io

    from django.core.management import call_command

    factories.role_user("finance", "integration")
    out = io.StringIO()
    call_command("create_api_token", "integration", "bank sync", "--scope", "donations:pending:read", stdout=out)
    assert out.getvalue().startswith("zbor_")


def test_a_staff_member_without_a_role_cannot_make_a_token_nor_use_one(client, demo):
    """Regression (issue 14): a token of a staff member with no role listed pending bank donations."""
    from zbor.api.models import ApiToken
    from zbor.api.tokens import PREFIX, _hash, create_token

    nobody = factories.staff_user("no-role", superuser=False)
    editor = factories.role_user("editor", "an-editor")
    for user in (nobody, editor):
        with pytest.raises(ValueError, match="roles do not allow"):
            create_token(user, name="sync", scopes=["donations:pending:read"])
    # A token written before this check (or straight into the table) is refused all the same.
    token = PREFIX + "made-before-the-check"
    ApiToken.objects.create(
        user=nobody,
        name="old",
        prefix=token[:10],
        token_hash=_hash(token),
        scopes=["donations:pending:read", "bank_statements:import"],
    )
    auth = {"authorization": f"Bearer {token}"}
    assert client.get("/api/v1/staff/donations/pending-bank", headers=auth).status_code == 403


def test_a_token_stops_working_when_its_owner_loses_the_role(client, demo):
    """Regression (issue 14): a token kept working after its owner lost the finance role."""
    from django.contrib.auth.models import Group

    record, token = _token(["donations:pending:read"], username="leaver")
    auth = {"authorization": f"Bearer {token}"}
    assert client.get("/api/v1/staff/donations/pending-bank", headers=auth).status_code == 200
    record.user.groups.remove(Group.objects.get(name="finance"))
    refused = client.get("/api/v1/staff/donations/pending-bank", headers=auth)
    assert refused.status_code == 403 and "current role" in refused.json()["detail"]
    record.user.groups.add(Group.objects.get(name="finance"))  # given back: works again
    assert client.get("/api/v1/staff/donations/pending-bank", headers=auth).status_code == 200


def test_create_api_token_command_refuses_a_scope_the_role_does_not_allow(demo):
    from django.core.management import CommandError, call_command

    from zbor.api.models import ApiToken

    factories.role_user("editor", "wordsmith")
    with pytest.raises(CommandError, match="No token was made"):
        call_command("create_api_token", "wordsmith", "sync", "--scope", "donations:pending:read")
    assert not ApiToken.objects.exists()


def test_the_language_fields_say_the_language_the_text_is_in_when_it_falls_back(client, demo):
    from zbor.campaigns.models import Need

    campaign = Campaign.objects.get(slug=DEMO)
    campaign.translations.filter(language_code="be").delete()
    for need in Need.objects.filter(campaign=campaign):
        need.translations.filter(language_code="be").delete()
    body = client.get(f"/api/v1/campaigns/{DEMO}?lang=be").json()
    assert body["requested_language"] == "be"
    assert body["language"] == "en" and body["is_fallback"] is True
    assert body["story_language"] == "en"
    assert {need["language"] for need in body["needs"]} == {"en"}
    translated = client.get(f"/api/v1/campaigns/{DEMO}?lang=ru").json()
    assert translated["language"] == "ru" and translated["is_fallback"] is False
    [card] = [c for c in client.get("/api/v1/campaigns?lang=be").json()["results"] if c["slug"] == DEMO]
    assert card["language"] == "en" and card["requested_language"] == "be"


def test_story_markdown_shows_foundation_notes_not_their_markup(client, demo):
    for language, term in (("en", "SHIZO"), ("ru", "ШИЗО")):
        body = client.get(f"/api/v1/campaigns/{DEMO}?lang={language}").json()
        assert "[[note" not in body["story_markdown"]
        assert f"> **{term}**: " in body["story_markdown"]
        assert "[[note" not in str(body)
