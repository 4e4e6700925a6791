"""The staff API, for finance integrations: bearer tokens with scopes, every call audited,
never cached, never readable from another site."""

from __future__ import annotations

import datetime

from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.security import HttpBearer

from zbor.accounts.services import audit
from zbor.donations.bank_import import import_statement
from zbor.donations.models import Donation, DonationStatus
from zbor.payments.bank import StatementError, format_reference
from zbor.payments.models import StatementLayout

from .models import Scope, scope_allowed
from .tokens import check_token


class TokenAuth(HttpBearer):
    def authenticate(self, request, token):
        return check_token(token)


class Problem(Schema):
    detail: str


class ImportOut(Schema):
    lines: int
    new: int
    matched: int
    unmatched: int
    outgoing: int


class PendingOut(Schema):
    donation: str
    reference: str
    amount: int
    currency: str
    created: datetime.date
    campaign: str


router = Router(auth=TokenAuth(), tags=["staff"])


def _allowed(request, scope: str) -> bool:
    """The token has the scope, and its owner's role allows that work now (not only when the
    token was made: a token stops working once its owner loses the role)."""
    return scope in request.auth.scopes and scope_allowed(request.auth.user, scope)


@router.post(
    "/bank-statements",
    response={200: ImportOut, 400: Problem, 401: Problem, 403: Problem},
    summary="Import a camt.053 or CSV bank statement (scope bank_statements:import)",
    description="A bank's own CSV is read with the layout saved under the name given as `layout`.",
)
def import_bank_statement(request, file: File[UploadedFile], layout: Form[str] = ""):
    if not _allowed(request, Scope.IMPORT_STATEMENTS):
        return 403, Problem(
            detail="This token may not import statements: its scopes or its owner's current role do not allow it."
        )
    saved = StatementLayout.objects.filter(name=layout).first() if layout else None
    if layout and saved is None:
        return 400, Problem(detail="Nothing was imported: no CSV layout is saved under this name.")
    try:
        report = import_statement(file, by=request.auth.user, layout=saved)
    except StatementError as exc:
        return 400, Problem(detail=f"Nothing was imported: {exc}")
    audit(request.auth.user, "api.bank_statement.import", request.auth, fields=["lines"])
    return ImportOut(
        lines=report.total,
        new=report.new,
        matched=report.matched,
        unmatched=report.unmatched,
        outgoing=report.outgoing,
    )


@router.get(
    "/donations/pending-bank",
    response={200: list[PendingOut], 401: Problem, 403: Problem},
    summary="Bank-transfer donations still waiting for their money (scope donations:pending:read)",
)
def pending_bank_donations(request):
    if not _allowed(request, Scope.READ_PENDING):
        return 403, Problem(
            detail="This token may not list donations: its scopes or its owner's current role do not allow it."
        )
    audit(request.auth.user, "api.donations.pending", request.auth, fields=["donations"])
    rows = (
        Donation.objects.filter(provider="bank", status=DonationStatus.PENDING)
        .select_related("campaign")
        .order_by("created_at")[:5000]
    )
    return [
        PendingOut(
            donation=str(d.public_id)[:8],
            reference=format_reference(d.checkout_reference),
            amount=d.amount,
            currency=d.currency,
            created=d.created_at.date(),
            campaign=d.campaign.slug,
        )
        for d in rows
    ]
