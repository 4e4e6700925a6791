"""The donate form again, filled in as it was sent, after a payment that did not go through."""

from __future__ import annotations

import uuid

from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from zbor.donations.forms import DonateForm
from zbor.donations.models import Donation

from .donate_views import RETRYABLE, _context, _mark, _mine, _page, allows_checkout_forms


@never_cache
@require_http_methods(["GET", "HEAD"])
@allows_checkout_forms
def donation_again(request, public_id):
    """The donate form filled in as it was sent, after a payment failed or was cancelled.

    Only for the browser that made the donation (its cookie). The server fills in what it still
    knows, none of it personal: the amount, the need and the way to pay. The name, the words and
    the email were forgotten when the payment did not go through (``end_unpaid``): the tab that
    sent them puts them back from its own storage (donate-keep.js; a card payment needs
    JavaScript anyway). A new idempotency key: sending it starts a new donation."""
    donation = get_object_or_404(Donation.objects.select_related("campaign"), public_id=public_id)
    if _mark(donation) not in _mine(request) or donation.status not in RETRYABLE:
        return redirect("site:donation_status", public_id=donation.public_id)
    context = _context(donation.campaign.slug)
    if context is None:
        raise Http404
    need_ids = {n.pk for n in context.needs}
    fixed = {value for value, _label in context.choices.presets}
    form = DonateForm(
        initial={
            "preset": donation.amount if donation.amount in fixed else None,
            "amount": None if donation.amount in fixed else donation.amount,
            "need": donation.need_id if donation.need_id in need_ids else None,
            "method": donation.provider,
            "idempotency_key": uuid.uuid4().hex,
        },
        campaign=context.campaign,
        choices=context.choices,
    )
    return _page(request, context, form, restore=True)
