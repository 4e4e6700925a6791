"""Plain factory functions for tests: each makes a valid object with overridable parts."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from zbor.campaigns import services
from zbor.campaigns.models import Beneficiary, Campaign, Kind, Need, Note, Status, Update
from zbor.donations.models import MonthlyGift, MonthlyStatus
from zbor.donations.services import record_demo_donation
from zbor.payments.bank import new_reference

_seq = itertools.count(1)


def _user(username: str):
    user = get_user_model().objects.filter(username=username).first()
    return user or staff_user(username)


def role_user(role: str, username: str | None = None):
    """A staff member holding one role (editor, finance, admin), not a superuser."""
    from django.contrib.auth.models import Group

    from zbor.accounts.roles import sync_roles

    sync_roles()
    user = staff_user(username or f"{role}{next(_seq)}", superuser=False)
    user.groups.add(Group.objects.get(name=role))
    return get_user_model().objects.get(pk=user.pk)  # fresh: no cached permissions


def staff_user(username: str | None = None, *, superuser: bool = True):
    name = username or f"staff{next(_seq)}"
    return get_user_model().objects.create_user(
        username=name, password="correct horse battery", is_staff=True, is_superuser=superuser
    )


def beneficiary(
    *, reference: str | None = None, name: str = "Anna", pseudonym: bool = True, at_risk: bool = False, **names
) -> Beneficiary:
    b = Beneficiary.objects.create(
        reference=reference or f"B-{next(_seq):04d}",
        name_is_pseudonym=pseudonym,
        consent_recorded=True,
        at_risk=at_risk,
    )
    b.create_translation("en", display_name=name)
    for language, display_name in names.items():
        b.create_translation(language, display_name=display_name)
    return b


def note(key: str = "shizo", **translations) -> Note:
    n = Note.objects.create(key=key)
    translations = translations or {"en": ("SHIZO", "A punitive isolation cell.")}
    for language, (term, text) in translations.items():
        n.create_translation(language, term=term, text=text)
    return n


def campaign(
    *,
    slug: str | None = None,
    status: str = Status.PUBLISHED,
    needs: tuple[int, ...] = (50000, 50000, 100000),
    currency: str = "EUR",
    category: str = "relocation",
    original_language: str = "en",
    story: str = "A story in **markdown**.",
    title: str = "Help to start again",
    translations: dict[str, dict] | None = None,
    donations: tuple[int, ...] = (),
    by=None,
    approver=None,
    beneficiary_at_risk: bool = False,
) -> Campaign:
    c = Campaign.objects.create(
        slug=slug or f"campaign-{next(_seq)}",
        beneficiary=beneficiary(at_risk=beneficiary_at_risk),
        category=category,
        currency=currency,
        original_language=original_language,
    )
    c.create_translation(original_language, title=title, summary=f"Summary of {title}", story=story)
    for language, fields in (translations or {}).items():
        c.create_translation(language, **fields)
    for position, amount in enumerate(needs):
        need = Need.objects.create(campaign=c, position=position, amount=amount)
        need.create_translation(original_language, description=f"Need {position + 1}")
    for amount in donations:
        record_demo_donation(c, amount=amount)
    services.bring_to_status(
        c, status, by=by or _user("factory-editor"), approver=approver or _user("factory-reviewer")
    )
    c.refresh_from_db()
    return c


def fund(
    *,
    slug: str | None = None,
    status: str = Status.PUBLISHED,
    yearly_target: int | None = None,
    needs: tuple[int, ...] = (),
    currency: str = "EUR",
    title: str = "Emergency relocation",
    donations: tuple[int, ...] = (),
) -> Campaign:
    """A programme fund (no beneficiary, no end date), walked to ``status`` like a campaign."""
    c = Campaign.objects.create(
        slug=slug or f"fund-{next(_seq)}",
        kind=Kind.FUND,
        category="relocation",
        currency=currency,
        yearly_target=yearly_target,
    )
    c.create_translation("en", title=title, summary=f"Summary of {title}", story="A fund's story.")
    for position, amount in enumerate(needs):
        need = Need.objects.create(campaign=c, position=position, amount=amount)
        need.create_translation("en", description=f"Need {position + 1}")
    for amount in donations:
        record_demo_donation(c, amount=amount)
    services.bring_to_status(c, status, by=_user("factory-editor"), approver=_user("factory-reviewer"))
    c.refresh_from_db()
    return c


def update(c: Campaign, *, title: str = "News", body: str = "Some news.", language: str = "en") -> Update:
    u = Update.objects.create(campaign=c)
    u.create_translation(language, title=title, body=body)
    return u


def challenge_payload(task=None, **changes) -> dict:
    """A challenge of this site (``task``, else a fresh one) solved by ALTCHA's own Python library
    (so the format is checked against theirs too), as the fields the page's script sends;
    ``changes`` replace some of them."""
    import altcha

    from zbor import challenge

    task = task or challenge.create()
    solution = altcha.solve_challenge_v1(task.challenge, task.salt, task.algorithm, task.maxnumber)
    return {
        "algorithm": task.algorithm,
        "challenge": task.challenge,
        "number": solution.number,
        "salt": task.salt,
        "signature": task.signature,
        **changes,
    }


def solved_challenge(task=None, **changes) -> str:
    """What the donate page's script sends for a card payment: ``challenge_payload``, encoded."""
    import base64
    import json

    return base64.b64encode(json.dumps(challenge_payload(task, **changes)).encode()).decode()


def monthly_gift(
    c: Campaign,
    *,
    email: str = "donor@example.org",
    provider: str = "demo",
    status: str = MonthlyStatus.ACTIVE,
    amount: int = 1000,
    **fields,
) -> MonthlyGift:
    """A monthly gift as its provider's events leave it (no payment recorded): running since a
    few days, with the reference each provider gives (a bank's standing-order reference)."""
    running = status != MonthlyStatus.PENDING
    reference = {"bank": new_reference(), "stripe": f"sub_{uuid.uuid4().hex[:24]}"}.get(
        provider, f"demo_sub_{uuid.uuid4().hex}"
    )
    values = {
        "campaign": c,
        "amount": amount,
        "currency": c.currency,
        "provider": provider,
        "status": status,
        "reference": reference,
        "email": email,
        "language": "en",
        "idempotency_key": uuid.uuid4().hex,
        "started_at": timezone.now() - timedelta(days=3) if running else None,
        "last_paid_at": timezone.now() - timedelta(days=3) if running and provider != "bank" else None,
        **fields,
    }
    return MonthlyGift.objects.create(**values)
