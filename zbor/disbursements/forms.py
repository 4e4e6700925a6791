from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from zbor.campaigns.models import PUBLIC_STATUSES, Need, Status
from zbor.forms import AmountField

from .crypto_proof import CryptoProof, Network
from .models import Channel


class NeedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, need):
        campaign = need.campaign.safe_translation_getter("title", any_language=True)
        description = need.safe_translation_getter("description", any_language=True)
        return f"{campaign} — {description}"


class PayoutRequestForm(forms.Form):
    need = NeedChoiceField(
        label=_("Need"),
        # Withdrawn campaigns too: money held for someone taken offline must still reach them.
        queryset=Need.objects.filter(campaign__status__in=[*PUBLIC_STATUSES, Status.WITHDRAWN])
        .select_related("campaign")
        .order_by("campaign", "position"),
    )
    amount = AmountField(
        label=_("Amount"),
        help_text=_(
            "In the campaign's currency, e.g. 500 or 500.00. For a crypto transfer: its value in this "
            "currency on the day it is paid."
        ),
    )
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    recipient = forms.CharField(
        label=_("Recipient details"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Encrypted; only finance can read it, and every read is recorded."),
    )
    purpose = forms.CharField(label=_("Purpose"), max_length=300)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        need = cleaned.get("need")
        if need is not None:
            amount_field = cast(AmountField, self.fields["amount"])
            amount_field.currency = need.campaign.currency
            raw = self.data.get(self.add_prefix("amount"), "")
            try:
                cleaned["amount"] = amount_field.clean(raw)
                self.errors.pop("amount", None)
            except forms.ValidationError as exc:
                self.add_error("amount", exc)
        return cleaned


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class ProofForm(forms.Form):
    proof = forms.FileField(
        label=_("Proof of payment"),
        help_text=_("A receipt: picture or PDF. Metadata is removed; the file is encrypted."),
    )


class CryptoProofForm(forms.Form):
    """Marking a payout by crypto transfer paid: the transfer itself is the proof."""

    network = forms.ChoiceField(label=_("Network"), choices=[("", "---------"), *Network.choices])
    coin_amount = forms.CharField(
        label=_("Amount in the coin"),
        max_length=40,
        help_text=_("What was sent, in BTC or USDT: at most 8 decimals for bitcoin, 6 for USDT."),
    )
    transaction_id = forms.CharField(
        label=_("Transaction id"),
        max_length=100,
        help_text=_(
            "The proof of payment. Bitcoin and Tron: 64 characters 0-9 and a-f; Lightning: the payment hash "
            "or preimage; Ethereum: 0x and 64 characters. Encrypted; never shown publicly."
        ),
    )
    address = forms.CharField(
        label=_("Receiving address"),
        required=False,
        max_length=2000,
        help_text=_(
            "Optional. Encrypted with the transaction id; only finance can read it, and every read is recorded."
        ),
    )
    proof = forms.FileField(
        label=_("Proof of payment"),
        required=False,
        help_text=_("Optional for crypto: a picture or PDF. Metadata is removed; the file is encrypted."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("network") or "coin_amount" not in cleaned or "transaction_id" not in cleaned:
            return cleaned
        typed = CryptoProof(
            network=cleaned["network"],
            coin_amount=cleaned["coin_amount"],
            transaction_id=cleaned["transaction_id"],
            address=cleaned.get("address", ""),
        )
        try:
            cleaned["crypto"] = typed.cleaned()
        except ValidationError as exc:
            for field, errors in exc.error_dict.items():
                for error in errors:
                    self.add_error(field, error)
        return cleaned
