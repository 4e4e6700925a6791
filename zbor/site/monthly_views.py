"""A monthly gift's pages: its start from the donate form, its status page, and the demo's
checkout for it. Like the donation's pages, nothing personal in a URL and nothing cached."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from zbor.donations import services
from zbor.donations.bank_instructions import standing_order_details
from zbor.donations.events import receive_event
from zbor.donations.exceptions import DonationError
from zbor.donations.models import MonthlyGift, MonthlyStatus
from zbor.money import Money, format_money
from zbor.payments import registry
from zbor.payments.demo import DemoProvider
from zbor.payments.epc import qr_svg

from .context_processors import absolute


def start_monthly_gift(request, context, form, *, over_limit, challenge_check):
    """The monthly gift a valid form asks for: the redirect to its checkout (or, for a
    standing order, to its status page with the instructions), the 429 page over a limit, or
    None with the reason added to the form."""
    data = form.cleaned_data
    refused = over_limit(request, context.campaign, context.card, data["method"])
    if refused is not None:
        return refused
    provider = registry.get(data["method"])
    try:
        gift = services.start_monthly(
            context.campaign,
            amount=data["total"],
            provider=data["method"],
            email=data["email"],
            language=get_language(),
            idempotency_key=data["idempotency_key"],
            return_url_for=lambda g: absolute(request, status_path(g)),
            new_donation_check=challenge_check(data) if provider is not None and provider.needs_challenge else None,
        )
    except DonationError as exc:
        form.add_error(None, str(exc))
        return None
    pay_at = gift.checkout_url if gift.status == MonthlyStatus.PENDING else ""
    return HttpResponseRedirect(pay_at or status_path(gift))


def status_path(gift: MonthlyGift) -> str:
    return reverse("site:monthly_status", kwargs={"public_id": gift.public_id})


def _manage_url() -> str:
    try:  # the "Manage my monthly gift" page (issue 18), where it is part of this site
        return reverse("site:monthly_manage")
    except NoReverseMatch:
        return ""


@never_cache
def monthly_status(request, public_id):
    """A monthly gift's page: pending or running, the amount every month, and how to stop it.
    The campaign is not named (the provider sees this address)."""
    gift = get_object_or_404(MonthlyGift, public_id=public_id)
    context = {
        "gift": gift,
        "amount": format_money(Money(gift.amount, gift.currency), get_language()),
        "cancelled": request.GET.get("cancelled") == "1" and gift.status == MonthlyStatus.PENDING,
        "manage_url": _manage_url(),
        "bank": None,
    }
    if gift.provider == "bank" and gift.status != MonthlyStatus.STOPPED:
        bank = standing_order_details(gift, get_language())
        context["bank"] = bank
        context["epc_svg"] = qr_svg(bank.epc, label=_("QR code for your banking app")) if bank.epc else ""
    return render(request, "site/monthly_status.html", context)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def demo_monthly_checkout(request, reference: str):
    """The demo's checkout for a monthly gift: completing it starts the gift and pays its first
    month, through the same events a card provider's webhooks bring."""
    gift = get_object_or_404(MonthlyGift, provider="demo", checkout_reference=reference)
    if gift.status != MonthlyStatus.PENDING:
        return redirect("site:monthly_status", public_id=gift.public_id)
    if request.method == "POST":
        outcome = request.POST.get("outcome", "")
        if outcome == "cancel":
            messages.info(request, _("The test payment was cancelled. Nothing was charged."))
            return HttpResponseRedirect(status_path(gift) + "?cancelled=1")
        if outcome != "complete":
            return HttpResponseBadRequest("Choose complete or cancel.", content_type="text/plain")
        receive_event(DemoProvider.subscription_started(reference))
        gift.refresh_from_db()
        invoice = f"demo_inv_{gift.public_id.hex}_1"
        receive_event(DemoProvider.monthly_paid(gift.reference, invoice, amount=gift.amount, currency=gift.currency))
        return redirect("site:monthly_status", public_id=gift.public_id)
    return render(
        request,
        "site/demo_checkout.html",
        {"monthly": True, "amount": format_money(Money(gift.amount, gift.currency), get_language())},
    )
