"""Public pages. Each view reads through selectors and renders a page model from pages.py."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from zbor.campaigns.models import Status
from zbor.campaigns.selectors import campaign_for_preview, public_campaign
from zbor.public.pages import build_cards, build_page
from zbor.public.selectors import ListingPaginator, campaign_listing

from .context_processors import absolute
from .fastpath import public_page
from .forms import CampaignFilterForm
from .share import donate_button, share_html


@require_safe
@public_page
def home(request):
    language = get_language()
    open_campaigns = campaign_listing({"status": Status.PUBLISHED})[:6]
    return render(request, "site/home.html", {"cards": build_cards(open_campaigns, language)})


@require_safe
@public_page(params=(*CampaignFilterForm.base_fields, "page"))
def campaign_list(request):
    language = get_language()
    form = CampaignFilterForm(request.GET or None)
    filters = form.values() if request.GET else {}
    paginator = ListingPaginator(campaign_listing(filters), settings.ZBOR_CAMPAIGNS_PER_PAGE, filters=filters)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "site/campaign_list.html",
        {
            "form": form,
            "page": page,
            "cards": build_cards(page.object_list, language),
            "query": query.urlencode(),
            "filtered": any(filters.get(k) for k in ("category", "status")),
        },
    )


def _render_campaign(request, campaign, *, is_preview: bool = False):
    language = get_language()
    page = build_page(campaign, language, is_preview=is_preview)
    donate_url = reverse("site:campaign_donate", kwargs={"slug": page.card.slug}) if page.accepting else ""
    response = render(
        request,
        "site/campaign_detail.html",
        {
            "page": page,
            "card": page.card,
            "share_html": share_html(absolute(request, page.card.url), page.card.title, language),
            # Empty when the campaign takes no donations: the page then offers none.
            "donate_url": donate_url,
            "donate_button": donate_button(donate_url, language) if donate_url else "",
        },
    )
    if is_preview:
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Cache-Control"] = "no-store"
    return response


@require_safe
@public_page
def campaign_detail(request, slug: str):
    campaign = public_campaign(slug)
    if campaign is None:
        raise Http404
    return _render_campaign(request, campaign)


@require_safe
def campaign_preview(request, pk: int):
    """The public page of any campaign, for staff, marked as a preview and never indexed.

    Anyone else gets a plain 404: no redirect to a sign-in page that would reveal the staff path.
    """
    if not (request.user.is_active and request.user.is_staff and request.user.has_perm("campaigns.view_campaign")):
        raise Http404
    campaign = campaign_for_preview(pk)
    if campaign is None:
        raise Http404
    return _render_campaign(request, campaign, is_preview=True)


@require_safe
@public_page
def transparency(request):
    """Foundation-wide: collected, paid out and held, by month and by category, from the ledger;
    and the monthly gifts running now (counts and sums: ``zbor.public.monthly``)."""
    from babel.dates import format_date

    from zbor.campaigns.models import Category
    from zbor.money import Money, format_money
    from zbor.public.monthly import monthly_income
    from zbor.public.selectors import transparency_figures

    language = get_language()
    money = lambda amount, currency: format_money(Money(amount, currency), language)  # noqa: E731
    sections = []
    for currency, entry in sorted(transparency_figures().items()):
        months = sorted(entry["months"].items(), reverse=True)
        collected = sum(c for c, _p in entry["months"].values())
        paid = sum(p for _c, p in entry["months"].values())
        sections.append(
            {
                "currency": currency,
                "collected": money(collected, currency),
                "paid": money(paid, currency),
                "held": money(collected - paid, currency),
                "months": [
                    (format_date(month, format="LLLL y", locale=language), money(c, currency), money(p, currency))
                    for month, (c, p) in months
                ],
                "categories": [
                    (str(Category(cat).label), money(c, currency), money(p, currency), money(c - p, currency))
                    for cat, (c, p) in sorted(entry["categories"].items())
                ],
            }
        )
    return render(request, "site/transparency.html", {"sections": sections, "monthly": monthly_income(language)})


@require_safe
@public_page
def robots_txt(request):
    # The staff path is deliberately not listed: robots.txt is public. Staff pages say noindex.
    lines = [
        "User-agent: *",
        "Disallow: /*/campaigns/preview/",
        "Disallow: /*/donations/",
        "Allow: /",
        f"Sitemap: {absolute(request, reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain")
