"""Readable names of ledger accounts, for staff screens: "Need: Winter coat (Help to start
again)" for ``need:12``, "Held by Bank transfer (EUR)" for ``provider:bank:EUR``.

The ledger knows needs, campaigns and providers only by their ids (chart.py) and imports no
other app. The app that knows their names registers a ``Namer`` once, from its
``AppConfig.ready`` (zbor/donations/apps.py); each of its methods answers for a whole page of
accounts in one query. Without a namer (or for an id it does not know) an account is named by
the id: "Need: #12".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from django.utils.translation import gettext as _

from .chart import CRYPTO_WALLET


class Namer(Protocol):
    def needs(self, ids: set[int]) -> dict[int, str]:
        """Each need's name, with its campaign's."""

    def campaigns(self, ids: set[int]) -> dict[int, str]: ...

    def provider(self, name: str) -> str: ...


_namer: Namer | None = None


def register_namer(namer: Namer) -> None:
    global _namer
    _namer = namer


def _parse(code: str) -> tuple[str, str, str]:
    """(what, id or provider, currency) of an account code of the chart (chart.py)."""
    parts = code.split(":")
    if len(parts) == 3 and parts[0] == "payouts" and parts[1] == "need":
        return "payouts", parts[2], ""
    if len(parts) == 3 and parts[0] == "campaign" and parts[2] == "unallocated":
        return "unallocated", parts[1], ""
    if len(parts) == 2 and parts[0] == "need":
        return "need", parts[1], ""
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return "", code, ""


_PROVIDER_LABELS = {
    "provider": lambda: _("Held by %(provider)s (%(currency)s)"),
    "fees": lambda: _("Fees to %(provider)s (%(currency)s)"),
    "refunds": lambda: _("Refunded through %(provider)s (%(currency)s)"),
    "disputes": lambda: _("Taken back by disputes through %(provider)s (%(currency)s)"),
    "disbursed": lambda: _("Paid out through %(provider)s (%(currency)s)"),
    "outgoing": lambda: _("Sent through %(provider)s, waiting for its statement line (%(currency)s)"),
}


#: The crypto wallet's accounts say what they are rather than which provider: the wallet holds
#: crypto from any network, and its fees are the cost of selling it, not a provider's charge.
_WALLET_LABELS = {
    "provider": lambda: _("Crypto wallet, at book value (%(currency)s)"),
    "disbursed": lambda: _("Paid out of the crypto wallet (%(currency)s)"),
    "fees": lambda: _("Cost of converting crypto (%(currency)s)"),
}


def account_names(codes: Iterable[str]) -> dict[str, str]:
    """Each code's readable name, reading the names of its needs and campaigns once."""
    parsed = {code: _parse(code) for code in codes}
    need_ids = {int(ref) for what, ref, _cur in parsed.values() if what in ("need", "payouts") and ref.isdigit()}
    campaign_ids = {int(ref) for what, ref, _cur in parsed.values() if what == "unallocated" and ref.isdigit()}
    needs = _namer.needs(need_ids) if _namer and need_ids else {}
    campaigns = _namer.campaigns(campaign_ids) if _namer and campaign_ids else {}
    return {code: _name(code, *parts, needs, campaigns) for code, parts in parsed.items()}


def _name(code: str, what: str, ref: str, currency: str, needs: dict, campaigns: dict) -> str:
    if what in ("need", "payouts"):
        need = needs.get(int(ref), f"#{ref}") if ref.isdigit() else ref
        return (_("Need: %(need)s") if what == "need" else _("Paid out: %(need)s")) % {"need": need}
    if what == "unallocated":
        campaign = campaigns.get(int(ref), f"#{ref}") if ref.isdigit() else ref
        return _("Beyond the goal: %(campaign)s") % {"campaign": campaign}
    if ref == CRYPTO_WALLET and what in _WALLET_LABELS:
        return _WALLET_LABELS[what]() % {"currency": currency}
    if what in _PROVIDER_LABELS:
        provider = _namer.provider(ref) if _namer else ref
        return _PROVIDER_LABELS[what]() % {"provider": provider, "currency": currency}
    return code
