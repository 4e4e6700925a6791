"""The donor's pages: the donate form, the demo checkout, and the status (thank-you) page.

No page here puts anything personal in its URL, and none is cached (``never_cache``).
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from zbor import challenge, ratelimit
from zbor.campaigns.models import Campaign, Need
from zbor.campaigns.selectors import campaign_texts, donatable_campaign, public_campaign
from zbor.donations import services
from zbor.donations.bank_instructions import transfer_details
from zbor.donations.events import receive_event
from zbor.donations.exceptions import DonationError
from zbor.donations.forms import MONTHLY, DonateChoices, DonateForm
from zbor.donations.models import Donation, DonationStatus
from zbor.donations.selectors import campaign_money
from zbor.money import Money, format_money
from zbor.payments import registry
from zbor.payments.base import EventType
from zbor.payments.demo import DemoProvider
from zbor.payments.epc import qr_svg
from zbor.public.funds import funds_this_year
from zbor.public.pages import CampaignCard, build_card

from .bitcoin_views import bitcoin_payment, pays_on_zbor
from .context_processors import absolute
from .fastpath import MINE_COOKIE, MINE_MAX_AGE, Recent, canonical_redirect, mine_signer
from .forms import error_summary
from .monthly_views import demo_monthly_checkout, start_monthly_gift

log = logging.getLogger(__name__)


def _checkout_origins() -> tuple[str, ...]:
    return tuple(sorted({origin for provider in registry.enabled().values() for origin in provider.checkout_origins}))


@functools.cache
def _allowing(origins: tuple[str, ...], view):
    return csp_update({"form-action": list(origins)})(view)


def allows_checkout_forms(view):
    """The form's answer is a redirect to a card provider's checkout: CSP's form-action must
    allow it. django-csp's ``@csp_update``, with the origins of the providers enabled when the
    view runs (they are settings, and tests change them)."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        origins = _checkout_origins()
        return (_allowing(origins, view) if origins else view)(request, *args, **kwargs)

    return wrapped


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
@allows_checkout_forms
def donate(request, slug: str):
    """The donate form, rendered for each visit: its CSRF token, idempotency key and
    proof-of-work challenge are the visitor's own. The campaign data behind it is read at most
    once a second (``_context``)."""
    if request.method != "POST":
        # The form reads one query parameter, ``need`` ("Give to this need" links): any other
        # is redirected away, as on public pages.
        unread = canonical_redirect(request, frozenset({"need"}))
        if unread is not None:
            return unread
    context = _context(slug)
    if context is None:
        raise Http404
    if request.method == "POST":
        return _post(request, context)
    need = _need_asked(request, context)
    if need is not None:
        # A need chosen by the link: the form is made for this visit with it selected.
        form = DonateForm(
            initial={"need": need, "idempotency_key": uuid.uuid4().hex},
            campaign=context.campaign,
            choices=context.choices,
        )
        return _page(request, context, form)
    # A new form: its fields come from the context (``fields_html``), its two secrets from here.
    return _page(request, context, None, new_key=uuid.uuid4().hex)


def _need_asked(request, context: DonateContext) -> int | None:
    """The need ``?need=`` names, if it is one of this campaign's; anything else is ignored."""
    value = request.GET.get("need", "")
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return next((n.pk for n in context.needs if n.pk == int(value)), None)


@dataclass(frozen=True)
class DonateContext:
    """What the donate form needs to know about a campaign, read at most once a second."""

    campaign: Campaign
    needs: list[Need]
    card: CampaignCard
    accepting: bool
    choices: DonateChoices
    #: A card payment is possible: the form carries a proof-of-work challenge.
    needs_challenge: bool
    #: Names the page's cached frame (``{% cache %}`` in site/donate.html): like the fragments
    #: below, it holds what is the same for every visitor while this context is current.
    fragment_key: str

    # What a new form shows around its two per-visitor fields (the idempotency key and the
    # challenge), rendered once per context: the same for every visitor, never a secret in it.
    @cached_property
    def heading_html(self) -> SafeString:
        return render_to_string("site/_donate_heading.html", {"card": self.card})

    @cached_property
    def fields_html(self) -> SafeString:
        form = DonateForm(campaign=self.campaign, choices=self.choices)
        return render_to_string("site/_donate_fields.html", {"form": form, "challenge": self.needs_challenge})


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
        card=build_card(
            campaign,
            campaign_texts([campaign])[campaign.pk],
            get_language(),
            collected=money.collected,
            goal=sum(n.amount for n in needs),
            this_year=funds_this_year([campaign]).get(campaign.pk),
        ),
        accepting=campaign.status in services.ACCEPTING and not campaign.has_ended(),
        choices=DonateChoices.build(campaign, needs, still_needed),
        needs_challenge=any(provider.needs_challenge for provider in registry.enabled().values()),
        fragment_key=uuid.uuid4().hex,
    )


def _post(request, context: DonateContext):
    form = DonateForm(request.POST, campaign=context.campaign, choices=context.choices)
    if not context.accepting:
        form.is_valid()
        form.add_error(None, _("This campaign is not taking donations."))
    elif form.is_valid():
        started = _start(request, context, form)
        if started is not None:
            return started
    return _page(request, context, form, status=400)


def _start(request, context: DonateContext, form: DonateForm):
    """Starts the donation a valid form asks for: the redirect to pay (or to the status page),
    the 429 page over a limit, or None with the reason added to the form."""
    data = form.cleaned_data
    if data.get("frequency") == MONTHLY:
        return start_monthly_gift(request, context, form, over_limit=_over_limit, challenge_check=_challenge_check)
    refused = _over_limit(request, context.campaign, context.card, data["method"])
    if refused is not None:
        return refused
    try:
        donation = services.start_donation(
            context.campaign,
            amount=data["total"],
            need=next((n for n in context.needs if n.pk == data.get("need")), None),
            provider=data["method"],
            idempotency_key=data["idempotency_key"],
            public_name=data.get("public_name", ""),
            email=data.get("email", ""),
            message=data.get("message", ""),
            language=get_language(),
            # Neutral return addresses: the provider sees them, so no campaign slug.
            return_url_for=lambda d: absolute(request, _status_path(d)),
            # A card payment's proof of work, accepted once; a resent form needs none.
            new_donation_check=_challenge_check(data) if registry.get(data["method"]).needs_challenge else None,  # type: ignore[union-attr]
        )
    except DonationError as exc:
        form.add_error(None, str(exc))
        return None
    pay_at = donation.checkout_url if donation.status == DonationStatus.PENDING else ""
    pay_at = "" if pays_on_zbor(request, donation) else pay_at  # Bitcoin without JavaScript
    return _remember(request, HttpResponseRedirect(pay_at or _status_path(donation)), donation)


def _challenge_check(data: dict):
    return lambda: "" if challenge.verify(data["challenge"]) else challenge.refusal()


def _page(request, context: DonateContext, form, *, new_key: str = "", status: int = 200, restore: bool = False):
    """The page with a new form (``new_key`` its idempotency key), or a sent one shown as sent."""
    task = challenge.create().as_json() if context.accepting and context.needs_challenge else ""
    return render(
        request,
        "site/donate.html",
        {
            "donate": context,
            "card": context.card,
            "form": form,
            "bound": not new_key,
            "idempotency_key": new_key,
            "accepting": context.accepting,
            "challenge": task,
            "fragment_key": context.fragment_key,
            "error_summary": error_summary(form) if form is not None and form.is_bound else [],
            # The form after a payment that did not go through: the page's script puts back
            # what the server forgot (zbor/site/static/zbor/donate-keep.js).
            "restore": restore,
        },
        status=status,
    )


_ANY_ID = uuid.UUID(int=0)


@functools.cache
def _status_path_in(language: str) -> str:
    return reverse("site:donation_status", kwargs={"public_id": _ANY_ID})


def _status_path(donation: Donation) -> str:
    """The donation's status page in the active language (reversed once per language)."""
    return _status_path_in(get_language()).replace(str(_ANY_ID), str(donation.public_id))


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


#: A donation whose payment did not go through: the donor may try again with the same details.
RETRYABLE = (DonationStatus.FAILED, DonationStatus.CANCELLED, DonationStatus.EXPIRED, DonationStatus.PENDING)


def _again_path(donation: Donation) -> str:
    return reverse("site:donation_again", kwargs={"public_id": donation.public_id})


@never_cache
def donation_status(request, public_id):
    """After paying: thanks, bank instructions, or what went wrong. Nothing personal is shown,
    and the campaign only to the browser that made the donation."""
    donation = get_object_or_404(Donation.objects.select_related("campaign"), public_id=public_id)
    mine = _mark(donation) in _mine(request)
    campaign = public_campaign(donation.campaign.slug) if mine else None
    context = {
        "donation": donation,
        "amount": format_money(Money(donation.amount, donation.currency), get_language()),
        "campaign_url": reverse("site:campaign_detail", kwargs={"slug": campaign.slug}) if campaign else "",
        # "Try again" opens the form filled in as it was sent (``donation_again``).
        "donate_url": _again_path(donation) if campaign and donation.status in RETRYABLE else "",
        "cancelled": request.GET.get("cancelled") == "1" and donation.status == DonationStatus.PENDING,
        "bank": None,
    }
    if donation.provider == "bank" and donation.status == DonationStatus.PENDING:
        bank = transfer_details(donation, get_language())
        context["bank"] = bank
        # Euro only: SEPA credit transfers, and so EPC codes, know no other currency.
        context["epc_svg"] = qr_svg(bank.epc, label=_("QR code for your banking app")) if bank.epc else ""
        if request.GET.get("download") == "1":
            return _details_download(bank)
    context["bitcoin"] = bitcoin_payment(donation)  # a pending Bitcoin donation's, else None
    return render(request, "site/donation_status.html", context)


def _details_download(bank) -> HttpResponse:
    """The transfer details as a small text file the donor can keep (nothing else in it)."""
    text = render_to_string("site/bank_details.txt", {"bank": bank})
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="bank-transfer.txt"'
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def demo_checkout(request, reference: str):
    """The demo provider's checkout page, marked TEST MODE. Exists only with demo settings."""
    if registry.get("demo") is None:
        raise Http404
    if "\x00" in reference:  # PostgreSQL refuses NUL in a query: no such checkout either way
        raise Http404
    if reference.startswith("demo_sub_"):
        return demo_monthly_checkout(request, reference)
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
            # Back to the form as it was sent (for the browser that sent it; else its status).
            return HttpResponseRedirect(_again_path(donation))
        return redirect("site:donation_status", public_id=donation.public_id)
    return render(
        request,
        "site/demo_checkout.html",
        {"donation": donation, "amount": format_money(Money(donation.amount, donation.currency), get_language())},
    )
