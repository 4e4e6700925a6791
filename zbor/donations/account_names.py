"""The names the ledger's staff screens give accounts (zbor/ledger/names.py), from the
campaigns and the payment providers, in the language of the request."""

from __future__ import annotations

from django.utils.translation import get_language

from zbor.campaigns.models import Need
from zbor.campaigns.selectors import campaign_names, need_names
from zbor.payments import registry


class AccountNamer:
    def needs(self, ids: set[int]) -> dict[int, str]:
        """ "Winter coat (Help to start again)": the need, with its campaign. Three queries."""
        language = get_language() or "en"
        campaign_of: dict[int, int] = dict(Need.objects.filter(pk__in=ids).values_list("pk", "campaign_id"))
        campaigns = campaign_names(language, set(campaign_of.values()))
        return {
            pk: f"{name} ({campaigns.get(campaign_of.get(pk, 0), '?')})"
            for pk, name in need_names(language, ids).items()
        }

    def campaigns(self, ids: set[int]) -> dict[int, str]:
        return campaign_names(get_language() or "en", ids)

    def provider(self, name: str) -> str:
        return str(registry.label(name))
