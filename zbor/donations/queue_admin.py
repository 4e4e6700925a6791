"""The unmatched queue's decisions on the bank statement lines screen (services/queue.py).

On a line's page finance attaches it to the pending pledge it was meant for (by its reference
in any spelling) or assigns it to a campaign and one of its needs; on the list, two actions
with a reason: "Not a donation…" (booked as other income) and "Reversal handled…". "Return to
sender…" (review_admin.py) takes unmatched lines too. "Conversion of crypto…" takes one
unmatched line at a time, with the book value of the crypto sold (conversions.py).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from zbor.campaigns.models import PUBLIC_STATUSES, Campaign, Need
from zbor.forms import AmountField

from . import bank_out, bank_returns, conversions, services
from .models import BankStatementLine, LineStatus, Refund
from .review_admin import DecideAmountActions, money


def _reason_form(label):
    class ReasonForm(forms.Form):
        reason = forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": 3}), max_length=500)

    return ReasonForm


NotDonationForm = _reason_form(_("What is this money? (a membership fee, a grant, interest…)"))
ReversalForm = _reason_form(_("What did it reverse, and what was done?"))
ExpenseForm = _reason_form(_("What did this money pay? (the bank's charges, rent…)"))


class ConversionForm(forms.Form):
    book_value = AmountField(
        label=_("Book value of the crypto sold"),
        help_text=_(
            "What the crypto sold is worth in the books (what it was booked at when it arrived), in the "
            "line's currency: at least what arrived. The difference is booked as the cost of converting."
        ),
    )
    reason = forms.CharField(
        label=_("What was sold, and where?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=500,
        help_text=_("For example: 0.0123 BTC sold on an exchange. Seen only by finance."),
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["book_value"]
        assert isinstance(field, AmountField)
        field.currency = currency


#: The lines waiting for a person in finance: the unmatched queue (credits no pledge claimed,
#: reversals) and the review queue (amounts that differ).
WAITING = (LineStatus.UNMATCHED, LineStatus.REVERSAL, LineStatus.REVIEW)


class WaitingFilter(admin.SimpleListFilter):
    title = _("queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [("waiting", _("Waiting for finance"))]

    def queryset(self, request, queryset):
        return queryset.filter(status__in=WAITING) if self.value() == "waiting" else queryset


#: The line page's fields for deciding an unmatched line (shown only while it is unmatched).
RESOLVE_FIELDS = ("attach_to_pledge", "assign_to", "need")
#: The line page's field for matching money out to its payout (shown only while outgoing).
MATCH_FIELDS = ("match_payout", "match_refund", "match_return")
#: The line page's fields for splitting money above its pledge (shown only while in review).
SPLIT_FIELDS = ("split_rest_to", "split_need")


class NeedChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.campaign} · {obj}"


class RefundChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        when = f"{obj.decided_at:%Y-%m-%d}" if obj.decided_at else ""
        return f"#{obj.pk} · {money(obj.amount, obj.donation.currency)} · {when}"


class ReturnedLineChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.booked_on} · {money(obj.amount, obj.currency)} · {obj.reason[:60]}"


class ResolveLineForm(forms.ModelForm):
    attach_to_pledge = forms.CharField(
        label=_("Attach to the pledge with reference"),
        required=False,
        max_length=60,
        help_text=_(
            "The pending bank pledge or standing order this money was meant for, by its reference in any "
            "spelling (ZB4K7Q-9MX2T, zb4k7q 9mx2t): it is booked at the amount that arrived (for a standing "
            "order, as one of its months)."
        ),
    )
    assign_to = forms.ModelChoiceField(
        label=_("Assign to campaign"),
        queryset=Campaign.objects.filter(status__in=PUBLIC_STATUSES),
        required=False,
        help_text=_("The credit becomes a donation to this campaign. The campaign's currency must match."),
    )
    need = NeedChoice(
        label=_("and to its need"),
        queryset=Need.objects.filter(campaign__status__in=PUBLIC_STATUSES).select_related("campaign"),
        required=False,
        help_text=_("When the transfer's words say what it is for: the donation is earmarked to this need."),
    )

    match_payout = forms.IntegerField(
        label=_("Match to payout number"),
        required=False,
        min_value=1,
        help_text=_(
            "The payout this money out paid, by its number (#12): paid by bank transfer, of the same amount and currency, not matched yet."
        ),
    )

    match_refund = RefundChoice(
        label=_("or it sent the bank refund"),
        queryset=Refund.objects.none(),
        required=False,
        help_text=_("A refund of a bank gift, approved and booked, of the same amount: nothing more is booked."),
    )
    match_return = ReturnedLineChoice(
        label=_("or it returned the line"),
        queryset=BankStatementLine.objects.none(),
        required=False,
        help_text=_("Money finance chose to return, of the same amount: neither line is booked."),
    )

    split_rest_to = forms.ModelChoiceField(
        label=_("Split: book the pledge, and give the rest to campaign"),
        queryset=Campaign.objects.filter(status__in=PUBLIC_STATUSES),
        required=False,
        help_text=_(
            "When more than pledged arrived: the pledge is booked at its pledged amount, the rest becomes a "
            "second donation to this campaign (the pledge's own, or the one the transfer's words name). "
            "To send part of it back, accept the line as received and refund that part."
        ),
    )
    split_need = NeedChoice(
        label=_("and to its need"),
        queryset=Need.objects.filter(campaign__status__in=PUBLIC_STATUSES).select_related("campaign"),
        required=False,
        help_text=_("The rest is earmarked to this need; left empty, it goes to the campaign's unallocated money."),
    )

    class Meta:
        model = BankStatementLine
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        line = self.instance
        if line.pk and line.status == LineStatus.OUTGOING:
            # Only what this money out can have sent: the same amount, in the same currency.
            refunds = bank_returns.unsent_bank_refunds().filter(amount=line.amount, donation__currency=line.currency)
            returns = bank_returns.lines_to_return().filter(amount=line.amount, currency=line.currency)
            for name, queryset in (
                ("match_refund", refunds.select_related("donation").order_by("-decided_at")),
                ("match_return", returns.order_by("-booked_on", "pk")),
            ):
                field = self.fields[name]
                assert isinstance(field, forms.ModelChoiceField)
                field.queryset = queryset

    def clean(self):
        data = super().clean() or {}
        if sum(bool(data.get(f)) for f in MATCH_FIELDS) > 1:
            raise forms.ValidationError(_("Match the money out to one payout, refund or returned line: not several."))
        if data.get("attach_to_pledge") and (data.get("assign_to") or data.get("need")):
            raise forms.ValidationError(_("Attach the line to a pledge, or assign it to a campaign: not both."))
        if data.get("need") and not data.get("assign_to"):
            data["assign_to"] = data["need"].campaign
        if data.get("split_need") and not data.get("split_rest_to"):
            data["split_rest_to"] = data["split_need"].campaign
        return data


class QueueActions(DecideAmountActions):
    """The review queue's two decisions, and the unmatched queue's two with a reason."""

    actions = [
        *DecideAmountActions.actions,
        "not_a_donation",
        "reversal_handled",
        "other_expense",
        "crypto_conversion",
    ]

    @admin.action(description=_("Not a donation…"), permissions=["decide"])
    def not_a_donation(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "not_a_donation",
            NotDonationForm,
            title=_("Not a donation"),
            note=_("The money is booked as the foundation's other income, not to any campaign."),
            decide=services.mark_not_a_donation,
        )

    @admin.action(description=_("Reversal handled…"), permissions=["decide"])
    def reversal_handled(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "reversal_handled",
            ReversalForm,
            title=_("Reversal handled"),
            note=_("Nothing is booked: say what the reversal was and what was done about it."),
            decide=services.settle_reversal,
        )

    @admin.action(description=_("Money out: other expense…"), permissions=["decide"])
    def other_expense(self, request, queryset):
        return self._with_reason(
            request,
            queryset,
            "other_expense",
            ExpenseForm,
            title=_("Money out: other expense"),
            note=_("The money out paid no payout: it is booked as the foundation's other expense."),
            decide=bank_out.mark_other_expense,
        )

    @admin.action(description=_("Conversion of crypto…"), permissions=["decide"])
    def crypto_conversion(self, request, queryset):
        lines = list(queryset[:2])
        if len(lines) != 1:
            messages.error(request, _("Select one line: each conversion has its own book value."))
            return None
        line = lines[0]
        form = ConversionForm(request.POST if request.POST.get("post") == "yes" else None, currency=line.currency)
        if not form.is_valid():
            return self._confirm(
                request,
                queryset,
                "crypto_conversion",
                title=_("Conversion of crypto"),
                note=_(
                    "The money came from selling the foundation's crypto: it moves from the crypto wallet to the "
                    "bank in the books, and no campaign's figures change."
                ),
                form=form,
            )
        data = form.cleaned_data

        def convert(obj) -> None:
            conversions.convert_crypto(obj, book_value=data["book_value"], note=data["reason"], by=request.user)

        self._decide(request, queryset, convert)
        return None

    def _with_reason(self, request, queryset, action, form_class, *, title, note, decide):
        form = form_class(request.POST if request.POST.get("post") == "yes" else None)
        if not form.is_valid():
            return self._confirm(request, queryset, action, title=title, note=note, form=form)
        reason = form.cleaned_data["reason"]
        self._decide(request, queryset, lambda obj: decide(obj, reason=reason, by=request.user))
        return None
