"""The donor's pages: the donate form, the demo checkout, and the status (thank-you) page.

No page here puts anything personal in its URL, and none is cached (``never_cache``).
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.html import escape
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from zbor import challenge, ratelimit
from zbor.campaigns.models import Campaign, Need
from zbor.campaigns.selectors import donatable_campaign, public_campaign
from zbor.donations import services
from zbor.donations.events import receive_event
from zbor.donations.exceptions import DonationError
from zbor.donations.forms import DonateChoices, DonateForm
from zbor.donations.models import Donation, DonationStatus
from zbor.donations.selectors import campaign_money
from zbor.money import Money, format_money
from zbor.payments import registry
from zbor.payments.bank import format_reference
from zbor.payments.base import EventType
from zbor.payments.demo import DemoProvider
from zbor.public.pages import CampaignCard, build_card

from .context_processors import absolute
from .fastpath import MINE_COOKIE, MINE_MAX_AGE, Recent, canonical_redirect, mine_signer

log = logging.getLogger(__name__)


# The donate form, rendered at most once a second per campaign, language and host, with marks
# where each visitor's own values go: the CSRF token, the form's idempotency key and a fresh
# proof-of-work challenge. A visit costs three string replacements instead of a render.
FORM_PAGES = Recent()
CSRF_MARK, KEY_MARK, CHALLENGE_MARK = "zbor-mark-csrf-0", "zbor-mark-key-00", "zbor-mark-challenge"


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def donate(request, slug: str):
    if request.method != "POST":
        # The form page is kept per campaign and language, not per query string: a visit with
        # ?x=… would otherwise lend its links (the language switch) to the next visitors.
        # The form reads no query parameter: any is redirected away, as on public pages.
        unread = canonical_redirect(request, frozenset())
        if unread is not None:
            return unread
    if request.method != "POST" and "messages" not in request.COOKIES:
        key = (slug, get_language(), request.scheme, request.get_host(), *settings.ZBOR_PAYMENT_PROVIDERS)

        def form_page():
            response = _donate(request, slug, form_page=True)
            return response.content.decode() if response.status_code == 200 else response

        page = FORM_PAGES.get_or_make(key, form_page, keep=lambda made: isinstance(made, str))
        if not isinstance(page, str):
            return page
        html = (
            page.replace(CSRF_MARK, get_token(request))
            .replace(KEY_MARK, uuid.uuid4().hex)
            .replace(CHALLENGE_MARK, escape(challenge.create().as_json()))
        )
        return _with_checkout_origins(HttpResponse(html))
    return _donate(request, slug)


@dataclass(frozen=True)
class DonateContext:
    """What the donate form needs to know about a campaign, read at most once a second."""

    campaign: Campaign
    needs: list[Need]
    card: CampaignCard
    accepting: bool
    choices: DonateChoices


CONTEXTS = Recent()


def _context(slug: str) -> DonateContext | None:
    """The campaign, its needs, its card and the form's choices, shared by the visits of one
    second (like the public pages: a donation made meanwhile shows in the next second)."""
    return CONTEXTS.get_or_make((slug, get_language(), *settings.ZBOR_PAYMENT_PROVIDERS), lambda: _read_context(slug))


def _read_context(slug: str) -> DonateContext | None:
    campaign = donatable_campaign(slug)
    if campaign is None:
        return None
    needs = list(campaign.needs.all())
    money = campaign_money(campaign.pk, [n.pk for n in needs])
    still_needed = {n.pk: max(0, n.amount - money.raised_by_need.get(n.pk, 0)) for n in needs}
    return DonateContext(
        campaign=campaign,
        needs=needs,
        card=build_card(campaign, get_language(), collected=money.collected, goal=sum(n.amount for n in needs)),
        accepting=campaign.status in services.ACCEPTING,
        choices=DonateChoices.build(campaign, needs, still_needed),
    )


def _donate(request, slug: str, *, form_page: bool = False):
    context = _context(slug)
    if context is None:
        raise Http404
    language = get_language()
    campaign, needs, card, accepting = context.campaign, context.needs, context.card, context.accepting
    posted = request.method == "POST"
    form = DonateForm(
        request.POST if posted else None,
        campaign=campaign,
        choices=context.choices,
        # A bound form shows what was sent; only a new one needs a key of its own.
        initial=None if posted else {"idempotency_key": KEY_MARK if form_page else uuid.uuid4().hex},
    )
    if posted and accepting and form.is_valid():
        data = form.cleaned_data
        refused = _over_limit(request, campaign, card, data["method"])
        if refused is not None:
            return refused
        try:
            donation = services.start_donation(
                campaign,
                amount=data["total"],
                need=next((n for n in needs if n.pk == data.get("need")), None),
                provider=data["method"],
                idempotency_key=data["idempotency_key"],
                public_name=data.get("public_name", ""),
                email=data.get("email", ""),
                message=data.get("message", ""),
                language=language,
                # Neutral return addresses: the provider sees them, so no campaign slug.
                return_url_for=lambda d: absolute(request, _status_path(d)),
                # A card payment's proof of work, accepted once; a resent form needs none.
                new_donation_check=(
                    (lambda: "" if challenge.verify(data["challenge"]) else challenge.refusal())
                    if registry.get(data["method"]).needs_challenge  # type: ignore[union-attr]
                    else None
                ),
            )
        except DonationError as exc:
            form.add_error(None, str(exc))
        else:
            pay_at = donation.checkout_url if donation.status == DonationStatus.PENDING else ""
            return _remember(request, HttpResponseRedirect(pay_at or _status_path(donation)), donation)
    if posted and not accepting:
        form.is_valid()
        form.add_error(None, _("This campaign is not taking donations."))
    needs_challenge = any(provider.needs_challenge for provider in registry.enabled().values())
    if not accepting or not needs_challenge:
        task = ""
    else:
        task = CHALLENGE_MARK if form_page else challenge.create().as_json()
    response = render(
        request,
        "site/donate.html",
        {
            "card": card,
            "form": form,
            "accepting": accepting,
            "challenge": task,
            **({"csrf_token": CSRF_MARK} if form_page else {}),
        },
        status=400 if posted else 200,
    )
    return _with_checkout_origins(response)


_ANY_ID = uuid.UUID(int=0)


@functools.cache
def _status_path_in(language: str) -> str:
    return reverse("site:donation_status", kwargs={"public_id": _ANY_ID})


def _status_path(donation: Donation) -> str:
    """The donation's status page in the active language (reversed once per language)."""
    return _status_path_in(get_language()).replace(str(_ANY_ID), str(donation.public_id))


def _with_checkout_origins(response):
    """The form's answer is a redirect to the card provider's checkout: CSP must allow it."""
    origins = sorted({origin for provider in registry.enabled().values() for origin in provider.checkout_origins})
    if origins:
        # django-csp's middleware reads this attribute, as its own @csp_update sets it.
        response._csp_update = {"form-action": origins}
    return response


def _over_limit(request, campaign, card, method: str):
    """The 429 page if this start of a payment is over a limit, else None.

    Counted per client (a salted, daily-rotated hash of the address: the address is never
    stored) and per campaign, so that neither a card-testing bot nor a flood of pledges runs
    through the donate form. The per-campaign count is also the business limit on how many
    donations one campaign takes in an hour."""
    provider = registry.get(method)
    assert provider is not None  # the form offers only enabled providers
    if provider.needs_challenge:
        per_client = ratelimit.Rule("card-starts", settings.ZBOR_CARD_STARTS_PER_CLIENT_HOUR, 3600)
    else:
        per_client = ratelimit.Rule("pledges", settings.ZBOR_PLEDGES_PER_CLIENT_HOUR, 3600)
    per_campaign = ratelimit.Rule("campaign-starts", settings.ZBOR_DONATIONS_PER_CAMPAIGN_HOUR, 3600)
    for rule, subject in ((per_client, ratelimit.client_hash(request)), (per_campaign, str(campaign.pk))):
        verdict = ratelimit.hit(rule, subject)
        if not verdict.allowed:
            log.warning("rate limit %s reached", rule.name)
            response = render(
                request,
                "site/too_many_requests.html",
                {"card": card, "minutes": -(-verdict.retry_after // 60), "whole_campaign": rule is per_campaign},
                status=429,
            )
            response["Retry-After"] = str(verdict.retry_after)
            return response
    return None


def _mark(donation: Donation) -> str:
    """What the cookie holds for a donation: a keyed hash of its id, useless without SECRET_KEY."""
    return salted_hmac(MINE_COOKIE, str(donation.public_id)).hexdigest()[:32]


def _mine(request) -> list[str]:
    try:
        return mine_signer().unsign(request.COOKIES.get(MINE_COOKIE, ""), max_age=MINE_MAX_AGE).split(".")
    except signing.BadSignature:
        return []


def _remember(request, response, donation: Donation):
    """Mark this browser as the one that made the donation, for an hour (a signed cookie;
    nothing is stored on the server). The provider sees the status page's address; without
    this cookie that page never says which campaign the donation was for.

    The cookie is opaque: keyed hashes of the donations' ids, never the ids, so a seized phone
    does not tell which gifts were made (only that it gave in the last hour)."""
    mark = _mark(donation)
    marks = [mark] + [m for m in _mine(request) if m and m != mark]
    response.set_cookie(
        MINE_COOKIE,
        mine_signer().sign(".".join(marks[:5])),
        max_age=MINE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


@never_cache
def donation_status(request, public_id):
    """After paying: thanks, bank instructions, or what went wrong. Nothing personal is shown,
    and the campaign only to the browser that made the donation."""
    donation = get_object_or_404(Donation.objects.select_related("campaign"), public_id=public_id)
    campaign = public_campaign(donation.campaign.slug) if _mark(donation) in _mine(request) else None
    context = {
        "donation": donation,
        "amount": format_money(Money(donation.amount, donation.currency), get_language()),
        "campaign_url": reverse("site:campaign_detail", kwargs={"slug": campaign.slug}) if campaign else "",
        "donate_url": reverse("site:campaign_donate", kwargs={"slug": campaign.slug}) if campaign else "",
        "cancelled": request.GET.get("cancelled") == "1" and donation.status == DonationStatus.PENDING,
        "bank": None,
    }
    if donation.provider == "bank" and donation.status == DonationStatus.PENDING:
        context["bank"] = {
            "iban": settings.ZBOR_BANK_IBAN,
            "bic": settings.ZBOR_BANK_BIC,
            "name": settings.ZBOR_BANK_ACCOUNT_NAME,
            "reference": format_reference(donation.checkout_reference),
        }
    return render(request, "site/donation_status.html", context)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def demo_checkout(request, reference: str):
    """The demo provider's checkout page, marked TEST MODE. Exists only with demo settings."""
    if registry.get("demo") is None:
        raise Http404
    if "\x00" in reference:  # PostgreSQL refuses NUL in a query: no such checkout either way
        raise Http404
    donation = get_object_or_404(Donation, provider="demo", checkout_reference=reference)
    if donation.status != DonationStatus.PENDING:
        return redirect("site:donation_status", public_id=donation.public_id)
    if request.method == "POST":
        outcome = {"complete": EventType.SUCCEEDED, "fail": EventType.FAILED, "cancel": EventType.CANCELLED}.get(
            request.POST.get("outcome", "")
        )
        if outcome is None:
            return HttpResponseBadRequest("Choose complete, fail or cancel.", content_type="text/plain")
        receive_event(DemoProvider.event(reference, outcome, amount=donation.amount, currency=donation.currency))
        if outcome == EventType.CANCELLED:
            messages.info(request, _("The test payment was cancelled. Nothing was charged."))
            return redirect("site:campaign_donate", slug=donation.campaign.slug)
        return redirect("site:donation_status", public_id=donation.public_id)
    return render(
        request,
        "site/demo_checkout.html",
        {"donation": donation, "amount": format_money(Money(donation.amount, donation.currency), get_language())},
    )
