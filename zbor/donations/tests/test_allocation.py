"""Each need's progress: earmarked money first, then the general pot fills the needs in order."""

from hypothesis import given
from hypothesis import strategies as st

from zbor.donations.selectors import allocate_to_needs


def test_reference_page_figures():
    """€683 given, €100 of it earmarked to clothes: the safety net fills first, then clothes."""
    assert allocate_to_needs([(1, 50000), (2, 50000), (3, 100000)], {2: 10000, None: 58300}) == {
        1: 50000,
        2: 18300,
        3: 0,
    }


def test_earmarked_surplus_flows_to_the_other_needs():
    assert allocate_to_needs([(1, 100), (2, 100)], {1: 150}) == {1: 100, 2: 50}


needs_strategy = st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=8)


@given(needs_strategy, st.data())
def test_allocation_never_overfills_never_invents_money(amounts, data):
    needs = list(enumerate(amounts, start=1))
    earmarked = {
        key: data.draw(st.integers(min_value=0, max_value=10**9))
        for key in data.draw(st.sets(st.sampled_from([None, *dict(needs)])))
    }
    covered = allocate_to_needs(needs, earmarked)
    total_in = sum(earmarked.values())
    assert set(covered) == {need_id for need_id, _ in needs}
    assert all(0 <= covered[need_id] <= amount for need_id, amount in needs)
    assert sum(covered.values()) == min(total_in, sum(amounts))
