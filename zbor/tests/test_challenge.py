"""zbor.challenge with ALTCHA's library: what it accepts, once, and what it refuses without
an error whatever the form sends."""

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import solved_challenge
from zbor import challenge

pytestmark = pytest.mark.django_db


def test_the_page_carries_the_names_its_script_reads():
    carried = json.loads(challenge.create().as_json())
    assert sorted(carried) == ["algorithm", "challenge", "maxnumber", "salt", "signature"]
    assert carried["algorithm"] == "SHA-256" and "?expires=" in carried["salt"] and carried["salt"].endswith("&")


def test_a_correct_answer_is_accepted_once():
    answer = solved_challenge(challenge.create())
    assert challenge.verify(answer)
    assert not challenge.verify(answer)


@pytest.mark.parametrize(
    "changes",
    [
        {"number": -1},
        {"number": True},
        {"number": [1]},
        {"number": "x"},
        {"signature": "0" * 64},
        {"algorithm": "SHA-1"},
        {"salt": 5},
        {"challenge": None},
    ],
)
def test_a_changed_answer_is_refused(changes):
    assert not challenge.verify(solved_challenge(challenge.create(), **changes))


def test_an_expired_challenge_is_refused(settings):
    settings.ZBOR_CHALLENGE_SECONDS = -1
    assert not challenge.verify(solved_challenge(challenge.create()))


@given(
    st.one_of(
        st.text(max_size=50),
        st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5), st.lists, max_leaves=5).map(
            lambda value: base64.b64encode(json.dumps(value).encode()).decode()
        ),
    )
)
def test_anything_else_is_refused_without_an_error(payload):
    assert challenge.verify(payload) is False
