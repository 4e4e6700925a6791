"""What a need's amount may not go below: money other apps have paid out for it.

A need's amount is its share of the goal; lowering it below what was already paid out for it
would show "Collected €1,100 of €500" and a negative "still needed". The campaigns app imports
no app that pays out (the import contracts in ``.importlinter``), so those apps tell it: each
registers, in its ``AppConfig.ready``, a function giving an amount per need id
(``register_need_floor``), and the forms and services that change a need's amount ask
``need_floors``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from zbor.money import Money, format_money

_sources: list[Callable[[Collection[int]], dict[int, int]]] = []


def register_need_floor(source: Callable[[Collection[int]], dict[int, int]]) -> None:
    """``source(need_ids)`` gives, per need id, an amount the need may not go below."""
    if source not in _sources:
        _sources.append(source)


def need_floors(need_ids: Collection[int]) -> dict[int, int]:
    """The least amount each of ``need_ids`` may have (0 when nothing holds it up)."""
    floors = dict.fromkeys(need_ids, 0)
    if not floors:
        return floors
    for source in _sources:
        for need_id, amount in source(list(floors)).items():
            floors[need_id] = max(floors.get(need_id, 0), amount)
    return floors


def floor_problems(amounts: dict[int, int], currency: str) -> list[str]:
    """Why some of ``amounts`` (new amounts by need id) cannot be: one message per need set
    below its floor, empty when every amount may be."""
    language = get_language() or "en"
    return [
        _("%(floor)s was already paid out or requested for this need: its amount cannot be lower.")
        % {"floor": format_money(Money(floor, currency), language)}
        for need_id, floor in need_floors(amounts).items()
        if amounts[need_id] < floor
    ]
