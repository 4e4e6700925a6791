"""Unlocking casework: the passphrase opens one's copy; the key then lives split between a
CaseSession row and the browser's cookie, and only both together (in one request) rebuild it."""

import logging
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.casework import PASSPHRASE, caseworker, foundation_keys, unlock
from zbor.accounts.models import AuditEvent
from zbor.cases import keys, sealing
from zbor.cases.models import CaseSession, CaseworkerKey

pytestmark = pytest.mark.django_db


def _request_from(client):
    """A request carrying the client's cookies and session, as the next admin request would."""
    from django.contrib.auth import get_user
    from django.contrib.sessions.backends.db import SessionStore

    request = RequestFactory().get("/backoffice/")
    request.COOKIES = {name: morsel.value for name, morsel in client.cookies.items()}
    request.session = SessionStore(client.cookies["sessionid"].value)
    request.user = get_user(request)
    return request


def test_unlocking_gives_the_browser_half_and_the_request_rebuilds_the_key(client):
    _key, private = foundation_keys()
    anna = caseworker("anna")
    response = unlock(client, anna)
    assert response.status_code == 302
    cookie = client.cookies[keys.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/backoffice/"
    assert 0 < int(cookie["max-age"]) <= 8 * 3600
    rebuilt = keys.private_key(_request_from(client))
    assert rebuilt is not None and bytes(rebuilt) == bytes(private)
    assert AuditEvent.objects.filter(action="cases.unlock", actor=anna).exists()
    # The unlock page now says so and offers the lock button.
    page = client.get(reverse("admin:cases_unlock")).content.decode()
    assert "Lock casework" in page


def test_neither_half_alone_opens_anything(client):
    foundation_keys()
    unlock(client, caseworker("anna"))
    request = _request_from(client)
    row = CaseSession.objects.get()
    # The database half: the key wrapped under a secret the server does not keep.
    assert row.wrapped and client.cookies[keys.COOKIE].value not in row.wrapped
    without_cookie = _request_from(client)
    without_cookie.COOKIES.pop(keys.COOKIE)
    assert keys.private_key(without_cookie) is None
    # The cookie without the row (deleted, or another server's database): nothing.
    CaseSession.objects.all().delete()
    assert keys.private_key(request) is None


def test_a_wrong_cookie_or_another_session_opens_nothing(client):
    foundation_keys()
    anna = caseworker("anna")
    unlock(client, anna)
    request = _request_from(client)
    request.COOKIES[keys.COOKIE] = sealing.b64(b"\0" * 32)
    assert keys.private_key(request) is None
    from django.test import Client

    stranger = Client()
    stranger.force_login(anna)  # the same person in another session: not unlocked there
    stranger.cookies[keys.COOKIE] = client.cookies[keys.COOKIE].value
    assert keys.private_key(_request_from(stranger)) is None


def test_a_wrong_passphrase_is_refused_audited_and_throttled(client, settings, caplog):
    settings.ZBOR_LOGIN_FAILURES_ALLOWED = 2
    foundation_keys()
    anna = caseworker("anna")
    with caplog.at_level(logging.DEBUG):
        for _attempt in range(2):
            response = unlock(client, anna, "not the passphrase at all")
            assert response.status_code == 200
            assert "does not open your copy" in response.content.decode()
        response = unlock(client, anna, PASSPHRASE)  # even the right one, for now
    assert "Too many wrong passphrases" in response.content.decode()
    assert not CaseSession.objects.exists() and keys.COOKIE not in client.cookies
    actions = list(AuditEvent.objects.filter(actor=anna).values_list("action", flat=True))
    assert actions.count("cases.unlock.failed") == 2 and "cases.unlock.throttled" in actions
    everything = caplog.text + repr(list(AuditEvent.objects.values()))
    assert "not the passphrase" not in everything and PASSPHRASE not in everything


def test_nothing_of_the_passphrase_or_key_reaches_logs_or_audit(client, caplog):
    _key, private = foundation_keys()
    anna = caseworker("anna")
    with caplog.at_level(logging.DEBUG):
        unlock(client, anna)
        client.post(reverse("admin:cases_lock"))
    secret_bits = [PASSPHRASE, sealing.b64(bytes(private)), bytes(private).hex()]
    rows = repr(list(AuditEvent.objects.values())) + repr(list(CaseworkerKey.objects.values()))
    for bit in secret_bits:
        assert bit not in caplog.text and bit not in rows


def test_expired_or_locked_means_no_key(client):
    foundation_keys()
    anna = caseworker("anna")
    unlock(client, anna)
    CaseSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert keys.private_key(_request_from(client)) is None
    assert not CaseSession.objects.exists()  # an expired unlock is deleted when seen
    unlock(client, anna)
    response = client.post(reverse("admin:cases_lock"))
    assert response.status_code == 302 and not CaseSession.objects.exists()
    assert client.cookies[keys.COOKIE].value == ""
    assert AuditEvent.objects.filter(action="cases.lock", actor=anna).exists()


def test_the_unlock_lasts_at_most_the_setting(client, settings):
    settings.ZBOR_CASE_UNLOCK_SECONDS = 60
    foundation_keys()
    unlock(client, caseworker("anna"))
    row = CaseSession.objects.get()
    assert row.expires_at <= timezone.now() + timedelta(seconds=60)


def test_signing_out_locks(client):
    foundation_keys()
    unlock(client, caseworker("anna"))
    assert CaseSession.objects.exists()
    client.post(reverse("admin:logout"))
    assert not CaseSession.objects.exists()


def test_losing_the_role_locks_and_refuses(client):
    from django.contrib.auth.models import Group

    foundation_keys()
    anna = caseworker("anna")
    unlock(client, anna)
    anna.groups.remove(Group.objects.get(name="caseworker"))
    assert keys.private_key(_request_from(client)) is None
    assert not CaseSession.objects.exists()
    assert unlock(client, anna).status_code == 403


@pytest.mark.parametrize("role", ["none", "editor", "finance", "admin"])
def test_other_roles_cannot_reach_or_use_the_unlock_page(client, role):
    foundation_keys()
    user = factories.staff_user(f"{role}-x", superuser=False) if role == "none" else factories.role_user(role)
    client.force_login(user)
    assert client.get(reverse("admin:cases_unlock")).status_code == 403
    assert client.post(reverse("admin:cases_unlock"), {"passphrase": PASSPHRASE}).status_code == 403
    assert client.get(reverse("admin:cases_add_caseworker")).status_code == 403
    assert client.get(reverse("admin:cases_caseworkerkey_changelist")).status_code == 403
    assert not CaseSession.objects.exists()


def test_signed_out_people_are_sent_to_sign_in(client):
    response = client.get(reverse("admin:cases_unlock"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_caseworker_without_a_copy_is_told_whom_to_ask(client):
    foundation_keys()
    response = unlock(client, caseworker("bob", copy=False))
    assert response.status_code == 200 and "Ask a caseworker to add you" in response.content.decode()


def test_unlock_follows_only_back_office_paths(client):
    foundation_keys()
    anna = caseworker("anna")
    client.force_login(anna)
    url = reverse("admin:cases_unlock")
    response = client.post(f"{url}?next=https://evil.example/", {"passphrase": PASSPHRASE})
    assert response["Location"] == url
    response = client.post(f"{url}?next=/backoffice/cases/caseworkerkey/", {"passphrase": PASSPHRASE})
    assert response["Location"] == "/backoffice/cases/caseworkerkey/"


def test_expired_unlocks_are_forgotten_by_the_periodic_task(client):
    from zbor.cases.unlock_tasks import forget_expired_unlocks

    foundation_keys()
    unlock(client, caseworker("anna"))
    forget_expired_unlocks.call_local()
    assert CaseSession.objects.count() == 1
    CaseSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    forget_expired_unlocks.call_local()
    assert not CaseSession.objects.exists()


def test_the_cookie_is_secure_when_sessions_are(client, settings):
    settings.SESSION_COOKIE_SECURE = True
    foundation_keys()
    unlock(client, caseworker("anna"))
    assert client.cookies[keys.COOKIE]["secure"]
