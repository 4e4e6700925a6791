"""Four-eyes for people: changes of roles and password resets need a second admin.

One admin asks (``request_roles``, ``request_password_reset``); another admin — neither the one
who asked nor the person changed — approves (``approve``, which applies it) or rejects
(``reject``). Nobody changes their own roles; nobody approves their own request; every step is
in the audit log, naming fields, never values. Superusers are break-glass accounts (see
docs/back-office.md): they can still edit roles directly, and only a superuser may ask for, or
approve, a change of superuser status or a change to a superuser.

    StaffChangeError   the request may not be made or decided (the message says why)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import StaffChangeRequest
from .roles import ROLES
from .services import audit, require

if TYPE_CHECKING:
    from django.contrib.auth.models import User

REQUEST = "accounts.request_staff_change"
DECIDE = "accounts.decide_staff_change"


class StaffChangeError(Exception):
    pass


def current_roles(user) -> list[str]:
    return sorted(user.groups.filter(name__in=ROLES).values_list("name", flat=True))


def _check_request(target, *, by: User) -> None:
    require(by, REQUEST)
    if target.pk == by.pk:
        raise StaffChangeError(
            _("Nobody changes their own roles or resets their own password here: ask another admin.")
        )
    if target.is_superuser and not by.is_superuser:
        raise StaffChangeError(_("Only a superuser may ask for a change to a superuser."))
    if StaffChangeRequest.objects.filter(target=target, state=StaffChangeRequest.State.PENDING).exists():
        raise StaffChangeError(
            _("This person already has a request waiting for a second admin: decide that one first.")
        )


def request_roles(
    target, *, by: User, roles: list[str], is_staff: bool, is_superuser: bool, reason: str
) -> StaffChangeRequest:
    """Ask for ``target`` to hold exactly ``roles`` (and the two flags). Nothing changes yet."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise StaffChangeError(_("Unknown roles: %(roles)s.") % {"roles": ", ".join(sorted(unknown))})
    with transaction.atomic():
        target = get_user_model().objects.select_for_update().get(pk=target.pk)
        _check_request(target, by=by)
        if is_superuser != target.is_superuser and not by.is_superuser:
            raise StaffChangeError(_("Only a superuser may ask to make or unmake a superuser."))
        before = current_roles(target)
        if sorted(set(roles)) == before and is_staff == target.is_staff and is_superuser == target.is_superuser:
            raise StaffChangeError(_("That is what this person has already: nothing to ask for."))
        change = StaffChangeRequest.objects.create(
            kind=StaffChangeRequest.Kind.ROLES,
            target=target,
            requested_by=by,
            reason=reason,
            roles_before=before,
            roles_after=sorted(set(roles)),
            is_staff_before=target.is_staff,
            is_staff_after=is_staff,
            is_superuser_before=target.is_superuser,
            is_superuser_after=is_superuser,
        )
        audit(by, "staff_change.request", change, fields=_changed_fields(change))
    return change


def request_password_reset(target, *, by: User, reason: str) -> StaffChangeRequest:
    """Ask for ``target``'s password to be revoked; once approved they set a new one through
    enrolment. Nothing changes yet."""
    with transaction.atomic():
        target = get_user_model().objects.select_for_update().get(pk=target.pk)
        _check_request(target, by=by)
        change = StaffChangeRequest.objects.create(
            kind=StaffChangeRequest.Kind.PASSWORD,
            target=target,
            requested_by=by,
            reason=reason,
        )
        audit(by, "staff_change.request", change, fields=["password"])
    return change


def _changed_fields(change: StaffChangeRequest) -> list[str]:
    if change.kind == StaffChangeRequest.Kind.PASSWORD:
        return ["password"]
    fields = []
    if change.roles_before != change.roles_after:
        fields.append("groups")
    if change.is_staff_before != change.is_staff_after:
        fields.append("is_staff")
    if change.is_superuser_before != change.is_superuser_after:
        fields.append("is_superuser")
    return fields


def _locked_pending(change: StaffChangeRequest, *, by: User) -> StaffChangeRequest:
    require(by, DECIDE)
    locked = StaffChangeRequest.objects.select_for_update().select_related("target").get(pk=change.pk)
    if locked.state != StaffChangeRequest.State.PENDING:
        raise StaffChangeError(_("This request has already been decided."))
    if by.pk in (locked.requested_by_id, locked.target_id):
        raise StaffChangeError(_("A second admin decides: neither the one who asked nor the person changed."))
    if (locked.target.is_superuser or locked.is_superuser_after) and not by.is_superuser:
        raise StaffChangeError(_("Only a superuser may approve a change to a superuser."))
    return locked


def approve(change: StaffChangeRequest, *, by: User) -> StaffChangeRequest:
    """Apply the request, as a second admin. StaffChangeError if it may not be."""
    with transaction.atomic():
        locked = _locked_pending(change, by=by)
        target = locked.target  # locked with the request (_locked_pending)
        if locked.kind == StaffChangeRequest.Kind.ROLES:
            if (current_roles(target), target.is_staff, target.is_superuser) != (
                locked.roles_before,
                locked.is_staff_before,
                locked.is_superuser_before,
            ):
                raise StaffChangeError(
                    _("This person's roles changed since the request was made: reject it and ask again.")
                )
            target.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name__in=locked.roles_after))
            target.groups.add(*Group.objects.filter(name__in=locked.roles_after))
            target.is_staff, target.is_superuser = locked.is_staff_after, locked.is_superuser_after
            target.save(update_fields=["is_staff", "is_superuser"])
        else:
            # The old password stops working and every session of the account ends with it
            # (Django ties sessions to the password hash); a new one is set through enrolment.
            target.set_unusable_password()
            target.save(update_fields=["password"])
        locked.state, locked.decided_by, locked.decided_at = StaffChangeRequest.State.APPROVED, by, timezone.now()
        locked.save(update_fields=["state", "decided_by", "decided_at"])
        audit(by, "staff_change.approve", locked, fields=_changed_fields(locked))
        audit(by, f"auth.user.{locked.kind}.change", target, fields=_changed_fields(locked))
    return locked


def reject(change: StaffChangeRequest, *, by: User) -> StaffChangeRequest:
    with transaction.atomic():
        locked = _locked_pending(change, by=by)
        locked.state, locked.decided_by, locked.decided_at = StaffChangeRequest.State.REJECTED, by, timezone.now()
        locked.save(update_fields=["state", "decided_by", "decided_at"])
        audit(by, "staff_change.reject", locked, fields=_changed_fields(locked))
    return locked
