"""Casework in a real browser: a caseworker signs in, sees the queue, opens a case locked (no
plaintext anywhere on the page), unlocks with their passphrase, reads it, and locks again."""

from __future__ import annotations

import os

import pytest
from django.urls import reverse

from tests.browser import needs_chromium
from tests.casework import PASSPHRASE, caseworker
from zbor.cases.tests.casefactory import ANSWERS, MESSAGE, sealed_case

pytestmark = [*needs_chromium, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("ZBOR_SCREENSHOTS", "")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/casework-{name}.png", full_page=True)


def test_a_caseworker_reads_a_case_only_while_unlocked(browser, live_server):
    anna = caseworker("anna")
    case = sealed_case()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", anna.username)
    page.fill("#id_password", "correct horse battery")
    page.get_by_role("button", name="Log in").click()

    page.goto(live_server.url + reverse("admin:cases_case_changelist"))
    assert page.get_by_role("link", name=case.code).is_visible()
    _shot(page, "queue")
    page.get_by_role("link", name=case.code).click()
    locked = page.content()
    assert "Unlock casework to read" in locked
    assert ANSWERS["core"]["name"] not in locked and MESSAGE not in locked
    _shot(page, "locked")

    page.get_by_role("link", name="Unlock casework to read").click()
    page.fill("#id_passphrase", PASSPHRASE)
    page.get_by_role("button", name="Unlock").click()
    page.wait_for_url(f"**/cases/case/{case.pk}/change/")
    assert page.get_by_text(ANSWERS["core"]["name"]).is_visible()
    assert page.get_by_text(MESSAGE).is_visible()
    _shot(page, "unlocked")

    page.get_by_role("button", name="Lock casework").click()
    page.goto(live_server.url + reverse("admin:cases_case_change", args=[case.pk]))
    assert ANSWERS["core"]["name"] not in page.content()
