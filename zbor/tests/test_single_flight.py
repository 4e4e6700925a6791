"""The single-flight table shared by the public page cache and the donate page (zbor/cache.py)."""

import threading
import time

from zbor.cache import SingleFlight


def test_a_value_is_kept_while_fresh_and_made_again_after():
    flight, made = SingleFlight(seconds=0.05), []

    def make():
        made.append(1)
        return len(made)

    assert flight.get_or_make("k", make) == 1
    assert flight.get_or_make("k", make) == 1
    time.sleep(0.06)
    assert flight.get_or_make("k", make) == 2


def test_a_value_keep_refuses_is_not_kept():
    flight, made = SingleFlight(seconds=60), []

    def make():
        made.append(1)
        return None

    flight.get_or_make("k", make, keep=lambda value: value is not None)
    flight.get_or_make("k", make, keep=lambda value: value is not None)
    assert len(made) == 2 and flight.kept("k") is None


def test_the_table_is_bounded_and_the_oldest_goes_first():
    flight = SingleFlight(seconds=60, max_entries=3)
    for n in range(5):
        flight.get_or_make(n, lambda n=n: n)
    assert list(flight.entries) == [2, 3, 4]


def test_many_first_callers_at_once_cause_one_make():
    flight, made = SingleFlight(seconds=lambda: 60), []

    def make():
        made.append(1)
        time.sleep(0.1)
        return "value"

    answers: list = []
    threads = [threading.Thread(target=lambda: answers.append(flight.get_or_make("k", make))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1 and answers == ["value"] * 8
