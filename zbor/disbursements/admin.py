"""Finance screens for payouts: request, decide (a second person), cancel, mark paid with proof
(a receipt, or for a crypto transfer the transaction); moves of money between needs and
campaigns are registered from move_admin.py."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from zbor import private_files
from zbor.admin_base import ZborModelAdmin
from zbor.money import Money, format_money

from . import services
from .crypto_proof import coin_of
from .exceptions import PayoutError
from .forms import CryptoProofForm, PayoutRequestForm, ProofForm, RejectForm
from .models import Channel, Payout, PayoutStatus
from .move_admin import MoveAdmin

__all__ = ["MoveAdmin", "PayoutAdmin"]


@admin.register(Payout)
class PayoutAdmin(ZborModelAdmin):
    list_display = [
        "pk",
        "campaign",
        "need",
        "amount_column",
        "channel",
        "status",
        "requested_by",
        "requested_at",
        "paid_at",
    ]
    list_filter = ["status", "channel", "requested_at"]
    list_select_related = ["campaign", "need", "requested_by"]
    readonly_fields = (
        "campaign",
        "need",
        "amount_column",
        "channel",
        "purpose",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_reason",
        "paid_by",
        "paid_at",
        "proof",
        "crypto_sent",
        "next_steps",
    )
    fields = readonly_fields

    @admin.display(description=_("amount"), ordering="amount")
    def amount_column(self, obj):
        return format_money(Money(obj.amount, obj.currency), get_language() or "en")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        payout = self.get_object(request, object_id)
        context: dict = {"recipient_details": None, "crypto_transaction": None, "crypto_hidden": False}
        if payout is not None and request.user.has_perm("disbursements.view_payout_recipient"):
            context["recipient_details"] = services.read_recipient(payout, by=request.user)  # audited
            # Audited too, when there is a transaction to read.
            context["crypto_transaction"] = services.read_crypto_proof(payout, by=request.user)
        elif payout is not None:
            context["crypto_hidden"] = bool(payout.crypto_proof_secret)
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **context})

    @admin.display(description=_("sent in crypto"))
    def crypto_sent(self, obj):
        """The network and the amount in the coin; the transaction id is below, for finance."""
        if not obj.crypto_network:
            return "-"
        amount = f"{obj.crypto_amount} {coin_of(obj.crypto_network)}" if obj.crypto_amount else _("purged")
        return f"{amount} · {obj.get_crypto_network_display()}"

    @admin.display(description=_("proof"))
    def proof(self, obj):
        if not obj.proof_name:
            return "-"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:disbursements_payout_proof", args=[obj.pk]), _("Open the proof")
        )

    @admin.display(description=_("next steps"))
    def next_steps(self, obj):
        links = []
        for action, label, states in [
            ("approve", _("Approve"), [PayoutStatus.REQUESTED]),
            ("reject", _("Reject"), [PayoutStatus.REQUESTED]),
            ("cancel", _("Cancel"), [PayoutStatus.REQUESTED, PayoutStatus.APPROVED]),
            ("pay", _("Mark as paid"), [PayoutStatus.APPROVED]),
        ]:
            if obj.status in states:
                links.append(
                    format_html(
                        '<a class="button" href="{}">{}</a>',
                        reverse("admin:disbursements_payout_act", args=[obj.pk, action]),
                        label,
                    )
                )
        return format_html(" ".join(["{}"] * len(links)), *links) if links else "-"

    def has_add_permission(self, request):
        return False  # requests go through the "Request a payout" page and its service

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("request/", view(self.request_view), name="disbursements_payout_request"),
            path("<int:pk>/act/<str:action>/", view(self.act_view), name="disbursements_payout_act"),
            path("<int:pk>/proof/", view(self.proof_view), name="disbursements_payout_proof"),
        ] + super().get_urls()

    def _page(self, request, template, **context):
        return render(
            request, template, {**self.admin_site.each_context(request), "opts": self.model._meta, **context}
        )

    def request_view(self, request):
        if not request.user.has_perm("disbursements.add_payout"):
            raise PermissionDenied
        form = PayoutRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                payout = services.request_payout(
                    data["need"],
                    amount=data["amount"],
                    channel=data["channel"],
                    recipient=data["recipient"],
                    purpose=data["purpose"],
                    by=request.user,
                )
            except PayoutError as exc:
                form.add_error("amount", str(exc))
            else:
                messages.success(request, _("Payout requested. A second finance person must approve it."))
                return redirect("admin:disbursements_payout_change", payout.pk)
        return self._page(request, "admin/zbor_form.html", form=form, title=_("Request a payout"))

    # Each step's own permission, checked before the payout is looked up: someone who may not
    # act learns nothing, not even whether payout N exists.
    ACT_PERMISSIONS = {
        "approve": "disbursements.approve_payout",
        "reject": "disbursements.approve_payout",
        "cancel": "disbursements.add_payout",
        "pay": "disbursements.change_payout",
    }

    # An error report never carries a crypto payout's transaction id or address.
    @method_decorator(sensitive_post_parameters("transaction_id", "address"))
    def act_view(self, request, pk: int, action: str):
        self.require(request, "disbursements.view_payout")
        if action not in self.ACT_PERMISSIONS:
            raise Http404
        self.require(request, self.ACT_PERMISSIONS[action])
        payout = get_object_or_404(Payout, pk=pk)
        pay_form = CryptoProofForm if payout.channel == Channel.CRYPTO else ProofForm
        form_class = {"reject": RejectForm, "pay": pay_form}.get(action)
        form = form_class(request.POST or None, request.FILES or None) if form_class else None
        if request.method == "POST" and (form is None or form.is_valid()):
            try:
                if action == "approve":
                    services.approve_payout(payout, by=request.user)
                elif action == "reject":
                    assert form is not None  # "reject" and "pay" always have a form
                    services.reject_payout(payout, by=request.user, reason=form.cleaned_data["reason"])
                elif action == "cancel":
                    services.cancel_payout(payout, by=request.user)
                else:
                    assert form is not None
                    data = form.cleaned_data
                    services.mark_paid(payout, by=request.user, proof=data.get("proof"), crypto=data.get("crypto"))
            except PermissionDenied:
                messages.error(request, _("Your role may not do this."))
            except (PayoutError, ValidationError) as exc:
                messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
            else:
                messages.success(request, _("Done."))
            return redirect("admin:disbursements_payout_change", payout.pk)
        titles = {
            "approve": _("Approve payout"),
            "reject": _("Reject payout"),
            "cancel": _("Cancel payout"),
            "pay": _("Mark payout as paid"),
        }
        intro = f"{payout} · {payout.campaign} · {payout.get_channel_display()}"
        return self._page(
            request, "admin/zbor_form.html", form=form, title=titles[action], intro=intro, multipart=action == "pay"
        )

    def proof_view(self, request, pk: int):
        self.require(request, "disbursements.view_payout")
        return private_files.serve(services.read_proof, get_object_or_404(Payout, pk=pk), by=request.user)  # audited
