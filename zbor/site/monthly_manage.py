"""Manage my monthly gift, without an account (issue 18; docs/decisions/0014-…).

The donor types the address they gave; the page always answers the same, and a background
task mails a signed, short-lived link if that address gives monthly (zbor/donations/monthly_links.py).
Behind the link: each running gift, its amount to change, pause and resume (card and demo; a
standing order is changed at the donor's bank), and stop, which takes two clicks: "Stop" opens a
page with one "Yes, stop my monthly gift" button. Every change is a POST with Django's CSRF
token, works without JavaScript, and goes through the same services staff use
(``zbor.donations.services.monthly_changes``, ``by=None``: the donor). Nothing personal in a
URL, nothing cached.
"""

from __future__ import annotations

import logging
from calendar import monthrange
from datetime import date

from babel.dates import format_date
from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, to_locale
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zbor import ratelimit
from zbor.donations import monthly_links, services, tasks
from zbor.donations.exceptions import DonationError
from zbor.donations.models import MonthlyGift, MonthlyStatus, StopReason
from zbor.forms import AmountField
from zbor.money import Money, format_money
from zbor.payments.base import ProviderUnavailable
from zbor.tasks import enqueue_on_commit

from .context_processors import absolute

log = logging.getLogger(__name__)

#: Gifts the donor may pause (a failing card is still running: the provider retries it).
PAUSABLE = (MonthlyStatus.ACTIVE, MonthlyStatus.FAILING)


class LinkForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("Your email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text=gettext_lazy("The address you gave with your monthly gift. It is not stored again."),
    )


class AmountForm(forms.Form):
    amount = AmountField(label=gettext_lazy("New amount every month"))

    def __init__(self, data=None, *, gift: MonthlyGift):
        super().__init__(data, prefix=f"gift-{gift.public_id.hex[:12]}")
        field = self.fields["amount"]
        assert isinstance(field, AmountField)
        field.currency, field.max_minor = gift.currency, services.max_donation(gift.currency)
        field.widget.attrs.update(field.widget_attrs(field.widget))
        field.help_text = _("In %(currency)s, from the next month on.") % {"currency": gift.currency}


# The page that asks for the link.


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def monthly_manage(request):
    """The address in, the same answer out: the link goes only where a monthly gift is given."""
    if request.method != "POST":
        return _ask_page(request, LinkForm(), sent=request.GET.get("sent") == "1")
    form = LinkForm(request.POST)
    if not form.is_valid():
        return _ask_page(request, form, status=400)
    verdict = ratelimit.hit(
        ratelimit.Rule("monthly-links", settings.ZBOR_MONTHLY_LINKS_PER_CLIENT_HOUR, 3600),
        ratelimit.client_hash(request),
    )
    if not verdict.allowed:
        log.warning("rate limit monthly-links reached")
        response = _ask_page(request, LinkForm(), wait_minutes=-(-verdict.retry_after // 60), status=429)
        response["Retry-After"] = str(verdict.retry_after)
        return response
    _queue_link(request, form.cleaned_data["email"])
    return redirect(reverse("site:monthly_manage") + "?sent=1")


def _queue_link(request, email: str) -> None:
    """Queue the link's task with the address's keyed hash; past the address's own limit (one
    person's mailbox flooded by someone else) nothing is queued, and nothing said."""
    digest = monthly_links.email_digest(email)
    per_address = ratelimit.Rule("monthly-link-address", settings.ZBOR_MONTHLY_LINKS_PER_ADDRESS_HOUR, 3600)
    if not ratelimit.hit(per_address, ratelimit.salted_hash("monthly-link", digest)).allowed:
        return
    template = absolute(request, reverse("site:monthly_gifts", kwargs={"token": monthly_links.TOKEN_SLOT}))
    enqueue_on_commit(tasks.send_monthly_link, digest, get_language(), template)


def _ask_page(request, form: LinkForm, *, sent: bool = False, wait_minutes: int = 0, status: int = 200):
    minutes = settings.ZBOR_MONTHLY_LINK_SECONDS // 60
    context = {"form": form, "sent": sent, "wait_minutes": wait_minutes, "link_minutes": minutes}
    return render(request, "site/monthly_manage.html", context, status=status)


# Behind the link.


def _read(request, token: str):
    """The link a token stands for, or the page saying it expired or is not valid."""
    try:
        return monthly_links.read_token(token), None
    except monthly_links.LinkExpired:
        return None, _refused(request, expired=True)
    except monthly_links.LinkInvalid:
        return None, _refused(request, expired=False)


def _refused(request, *, expired: bool):
    context = {"expired": expired, "form": LinkForm(), "minutes": settings.ZBOR_MONTHLY_LINK_SECONDS // 60}
    return render(request, "site/monthly_link_refused.html", context, status=410 if expired else 400)


def _gifts_url(token: str) -> str:
    return reverse("site:monthly_gifts", kwargs={"token": token})


@never_cache
@require_http_methods(["GET", "HEAD"])
def monthly_gifts(request, token: str):
    link, refused = _read(request, token)
    if refused is not None:
        return refused
    return _gifts_page(request, token, monthly_links.linked_gifts(link))


def _gifts_page(request, token: str, gifts: list[MonthlyGift], *, bound: AmountForm | None = None, status=200):
    rows = []
    for gift in gifts:
        form = bound if bound is not None and bound.prefix == AmountForm(gift=gift).prefix else AmountForm(gift=gift)
        rows.append(_row(token, gift, form))
    return render(request, "site/monthly_gifts.html", {"rows": rows, "token": token}, status=status)


def _row(token: str, gift: MonthlyGift, form: AmountForm | None = None) -> dict:
    kwargs = {"token": token, "public_id": gift.public_id}
    return {
        "gift": gift,
        "campaign": gift.campaign.safe_translation_getter("title", any_language=True) or gift.campaign.slug,
        "amount": format_money(Money(gift.amount, gift.currency), get_language()),
        "bank": gift.provider == "bank",
        "method": _method(gift),
        "next_payment": _long_date(next_payment(gift)),
        "can_pause": gift.provider != "bank" and gift.status in PAUSABLE,
        "can_resume": gift.provider != "bank" and gift.status == MonthlyStatus.PAUSED,
        "form": form,
        "amount_url": reverse("site:monthly_amount", kwargs=kwargs),
        "pause_url": reverse("site:monthly_pause", kwargs=kwargs),
        "resume_url": reverse("site:monthly_resume", kwargs=kwargs),
        "stop_url": reverse("site:monthly_stop", kwargs=kwargs),
    }


def _method(gift: MonthlyGift) -> str:
    return {
        "stripe": _("Card"),
        "bank": _("Bank standing order"),
        "demo": _("Test payment (demo)"),
    }.get(gift.provider, gift.provider)


def _long_date(day: date | None) -> str:
    """A date as a donor reads it: written out in their language ("5 marca 2026")."""
    return format_date(day, format="long", locale=to_locale(get_language())) if day else ""


def next_payment(gift: MonthlyGift) -> date | None:
    """When the next month is due, as far as Zbor knows: a standing order's expected transfer;
    a card's a month after its last payment (the provider decides the day). None while paused."""
    if gift.status == MonthlyStatus.PAUSED:
        return None
    if gift.provider == "bank":
        return gift.next_expected_on
    last = gift.last_paid_at or gift.started_at
    return month_later(timezone.localdate(last)) if last else None


def month_later(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def _gift(request, token: str, public_id):
    """The link's gift, or the response to give instead (the link refused, the gift gone)."""
    link, refused = _read(request, token)
    if refused is not None:
        return None, [], refused
    gifts = monthly_links.linked_gifts(link)
    gift = next((g for g in gifts if g.public_id == public_id), None)
    if gift is None:
        messages.info(request, _("That monthly gift can no longer be changed here: it has stopped."))
        return None, [], redirect(_gifts_url(token))
    return gift, gifts, None


def _provider_down(request) -> None:
    messages.error(
        request, _("The payment provider could not be reached, so nothing changed. Please try again in a few minutes.")
    )


@never_cache
@require_POST
def monthly_amount(request, token: str, public_id):
    gift, gifts, response = _gift(request, token, public_id)
    if gift is None:
        return response
    form = AmountForm(request.POST, gift=gift)
    if form.is_valid():
        try:
            services.change_monthly_amount(gift, amount=form.cleaned_data["amount"], by=None)
        except DonationError as exc:
            form.add_error("amount", str(exc))
        except ProviderUnavailable:
            _provider_down(request)
            return redirect(_gifts_url(token))
        else:
            amount = format_money(Money(gift.amount, gift.currency), get_language())
            messages.success(request, _("From the next month on, you give %(amount)s a month.") % {"amount": amount})
            return redirect(_gifts_url(token))
    return _gifts_page(request, token, gifts, bound=form, status=400)


@never_cache
@require_POST
def monthly_pause(request, token: str, public_id):
    return _pause(request, token, public_id, paused=True)


@never_cache
@require_POST
def monthly_resume(request, token: str, public_id):
    return _pause(request, token, public_id, paused=False)


def _pause(request, token: str, public_id, *, paused: bool):
    gift, _gifts, response = _gift(request, token, public_id)
    if gift is None:
        return response
    if gift.provider == "bank":
        messages.info(request, _("A standing order is paused or changed in your banking app."))
        return redirect(_gifts_url(token))
    try:
        changed = (services.pause_monthly if paused else services.resume_monthly)(gift, by=None)
    except ProviderUnavailable:
        _provider_down(request)
        return redirect(_gifts_url(token))
    if changed and paused:
        messages.success(request, _("Paused: no payment is taken until you resume it."))
    elif changed:
        messages.success(request, _("Your monthly gift runs again from the next month."))
    return redirect(_gifts_url(token))


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def monthly_stop(request, token: str, public_id):
    """The first click (GET) opens this page; its one button (POST) stops the gift."""
    gift, _gifts, response = _gift(request, token, public_id)
    if gift is None:
        return response
    if request.method != "POST":
        context = {"row": _row(token, gift), "token": token, "gifts_url": _gifts_url(token)}
        return render(request, "site/monthly_stop.html", context)
    try:
        services.stop_monthly(gift, reason=StopReason.DONOR, by=None)
    except ProviderUnavailable:
        _provider_down(request)
        return redirect(_gifts_url(token))
    return redirect(reverse("site:monthly_stopped", kwargs={"token": token, "public_id": gift.public_id}))


@never_cache
@require_http_methods(["GET", "HEAD"])
def monthly_stopped(request, token: str, public_id):
    """The confirmation, for a gift of this link that has stopped."""
    link, refused = _read(request, token)
    if refused is not None:
        return refused
    gift = None
    if public_id.hex in link.gift_ids:
        gift = MonthlyGift.objects.filter(public_id=public_id, status=MonthlyStatus.STOPPED).first()
    if gift is None:
        return redirect(_gifts_url(token))
    context = {
        "amount": format_money(Money(gift.amount, gift.currency), get_language()),
        "bank": gift.provider == "bank",
        "others": bool(monthly_links.linked_gifts(link)),
        "gifts_url": _gifts_url(token),
    }
    return render(request, "site/monthly_stopped.html", context)
