"""Fixtures of the tests in tests/ only; those every test may use are in the root conftest.py."""

import pytest

from tests.helpers import DEMO


@pytest.fixture
def donate_world(demo, monkeypatch):
    """The demo's campaign and a KWD one (three decimal places): what the donate form fuzzing posts to."""
    import itertools

    from tests import factories

    monkeypatch.setattr(factories, "_seq", itertools.count(9000))  # the demo's beneficiaries are B-0001...
    kwd = factories.campaign(slug="fuzz-kwd", currency="KWD", needs=(50000,))
    return {DEMO: demo, "fuzz-kwd": kwd}
