"""How a new donation is split across a campaign's needs."""

from hypothesis import given
from hypothesis import strategies as st

from zbor.donations.selectors import allocate


def test_reference_page_figures():
    """The demo's €683: €100 earmarked to clothes, the rest filling the needs in order."""
    needs = [(1, 50000), (2, 50000), (3, 100000)]
    raised = {}
    for amount, earmark in [(20000, None), (10000, 2), (5000, None), (2500, None), (25000, None), (5800, None)]:
        shares, beyond = allocate(needs, raised, amount, earmark)
        assert beyond == 0
        for need_id, share in shares.items():
            raised[need_id] = raised.get(need_id, 0) + share
    assert raised == {1: 50000, 2: 18300}


def test_an_earmarked_gift_goes_to_its_need_whole_even_past_its_amount():
    assert allocate([(1, 100)], {1: 100}, 50, 1) == ({1: 50}, 0)


def test_money_past_the_goal_goes_beyond_it():
    assert allocate([(1, 100), (2, 100)], {1: 100, 2: 90}, 30, None) == ({2: 10}, 20)


@given(
    st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=6),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=6, max_size=6),
    st.integers(min_value=1, max_value=10**7),
)
def test_unearmarked_allocation_keeps_every_cent_and_never_overfills(amounts, raised_list, amount):
    needs = list(enumerate(amounts, start=1))
    raised = {need_id: min(raised_list[i], need_amount) for i, (need_id, need_amount) in enumerate(needs)}
    shares, beyond = allocate(needs, raised, amount, None)
    assert sum(shares.values()) + beyond == amount
    assert all(raised[n] + shares.get(n, 0) <= a for n, a in needs)
    assert beyond == 0 or all(raised[n] + shares.get(n, 0) == a for n, a in needs)
