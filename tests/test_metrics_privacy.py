"""The metrics never name a person or a campaign: the whole flow of tests/test_privacy.py (a card
payment, a bank pledge matched by an imported statement naming the payer, words of support, a
beneficiary's private details, a payout, a refused and an unknown webhook, a 404) with metrics
on, then one scrape. Every label value must come from its fixed set (route names, methods,
status classes, providers, statuses), and no personal value, campaign slug, donation id or
case-sensitive token shows anywhere in the answer."""

from __future__ import annotations

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from tests.privacy_net import PERSONAL
from tests.test_privacy import behind_a_proxy, run_the_whole_flow, with_stripe_webhooks  # noqa: F401 - fixtures
from zbor import metrics
from zbor.donations.models import Donation, DonationStatus
from zbor.payments.registry import LABELS as PROVIDERS

pytestmark = pytest.mark.django_db

TOKEN = "metrics-privacy-token-0123456789"

#: What each label may hold; a route is a URL pattern's name ("namespace:name").
ALLOWED = {
    "method": metrics.METHODS | {"other"},
    "served_by": {"app", "page_cache"},
    "provider": set(PROVIDERS) | {"other"},
    "reason": set(metrics.WEBHOOK_FAILURES),
    "status": {f"{n}xx" for n in range(1, 6)} | set(DonationStatus.values) | {"other"},
    "kind": {"receipt", "credit_note"},
    "source": {"database", "tasks", "backups"},
    "state": {"queued", "scheduled"},
    "le": {str(b) for b in metrics.BUCKETS} | {"+Inf"},
}


def url_names(patterns=None, namespace: str = "") -> set[str]:
    """Every URL pattern's name in the URLconf, with its namespaces ("admin:login")."""
    from django.urls import URLPattern, get_resolver

    names = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLPattern):
            if pattern.name:
                names.add(namespace + pattern.name)
        else:
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= url_names(pattern.url_patterns, inner)
    return names


@pytest.mark.usefixtures("with_stripe_webhooks", "behind_a_proxy")
def test_a_scrape_after_the_whole_flow_holds_counts_and_fixed_labels_only(
    demo, settings, django_capture_on_commit_callbacks
):
    settings.ZBOR_METRICS_TOKEN = TOKEN
    settings.ZBOR_METRICS_DIR = ""
    run_the_whole_flow(demo, django_capture_on_commit_callbacks, settings)
    response = Client().get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    text = response.content.decode()

    known = url_names() | {metrics.NO_ROUTE}
    routes, values = set(), {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
            for name, value in sample.labels.items():
                if name == "route":
                    routes.add(value)
                    assert value in known, value
                else:
                    assert value in ALLOWED[name], (name, value)
    # The flow's pages were counted by their names; the refused webhook by provider and reason.
    assert {
        "site:campaign_detail",
        "site:campaign_donate",
        "site:demo_checkout",
        "site:donation_status",
        "admin:donations_bankstatement_import",
        "stripe_webhook",
    } <= routes, routes
    assert values[("zbor_webhook_failures_total", (("provider", "stripe"), ("reason", "refused")))] >= 1
    assert values[("zbor_donations", (("provider", "bank"), ("status", "succeeded")))] == 1

    needles = {what: list(found) for what, found in PERSONAL.items()}
    needles["campaign slug"] = [demo.slug]
    for donation in Donation.objects.all():
        needles[f"donation {donation.pk}"] = [str(donation.public_id), donation.public_id.hex[:8]]
        if donation.checkout_reference:
            needles[f"donation {donation.pk} reference"] = [donation.checkout_reference]
    leaks = [what for what, found in needles.items() if any(n.lower() in text.lower() for n in found)]
    assert leaks == []
