"""Two-factor enrolment by the staff member themselves, and the lost-phone reset.

An admin creates a one-time enrolment link for a staff member without a device; the staff
member opens it (signed out: in production nobody signs in without a code), sets or confirms
their password, scans a QR code drawn here, confirms a six-digit code and gets recovery codes.
Only a hash of each link is stored. A lost phone is reset by two admins: one asks, a different
one approves; approval removes the devices and issues a new link. Nobody manages their own
devices. Every step is in the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from zbor.crypto import decrypt_text

from .devices import remove_every_device
from .models import (
    AuthenticatorDevice,
    DeviceReset,
    EnrolmentLink,
    RecoveryCodeDevice,
    new_key_secret,
    new_recovery_code,
)
from .services import audit

LINK_LIFETIME = timedelta(hours=24)
#: Wrong codes or passwords a link survives; then it is spent and an admin makes a new one.
LINK_FAILURES_ALLOWED = 5
RECOVERY_CODES = 10


class EnrolmentError(Exception):
    """A refused two-factor action; the message is for the admin."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_manage(actor) -> bool:
    """Superusers and people with the admin role's user permissions manage others' two-factor."""
    return bool(actor.is_active and actor.is_staff and (actor.is_superuser or actor.has_perm("auth.change_user")))


def check_target(actor, user) -> None:
    if not may_manage(actor):
        raise EnrolmentError(_("You may not manage two-factor sign-in."))
    if actor.pk == user.pk:
        raise EnrolmentError(_("Nobody manages their own two-factor sign-in: ask another admin."))
    if user.is_superuser and not actor.is_superuser:
        raise EnrolmentError(_("Only a superuser manages a superuser's two-factor sign-in."))
    if not (user.is_active and user.is_staff):
        raise EnrolmentError(_("Two-factor sign-in is only for active staff members."))


def has_device(user) -> bool:
    return (
        AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()
        or RecoveryCodeDevice.objects.filter(user=user, confirmed=True).exists()
    )


def _issue_link(actor, user) -> str:
    now = timezone.now()
    # A new link replaces any earlier one still open.
    EnrolmentLink.objects.filter(user=user, used_at__isnull=True).update(used_at=now, pending_key_secret="")
    token = secrets.token_urlsafe(32)
    link = EnrolmentLink.objects.create(
        user=user, token_hash=token_hash(token), created_by=actor, expires_at=now + LINK_LIFETIME
    )
    audit(actor, "account.enrolment_link_create", link, fields=["user"])
    return token


def create_link(actor, user) -> str:
    """A new enrolment link for ``user``, who has no device or whose password was reset (by two
    admins: zbor.accounts.staff_changes); returns the secret, shown once. Enrolling replaces the
    person's devices, so a reset password is set again together with a new authenticator."""
    check_target(actor, user)
    with transaction.atomic():
        if has_device(user) and user.has_usable_password():
            raise EnrolmentError(
                _("This person already has two-factor sign-in. If the phone is lost, request a reset.")
            )
        return _issue_link(actor, user)


def request_reset(actor, user) -> DeviceReset:
    check_target(actor, user)
    with transaction.atomic():
        if DeviceReset.objects.filter(user=user, approved_at__isnull=True).exists():
            raise EnrolmentError(_("A reset is already waiting for a second admin."))
        reset = DeviceReset.objects.create(user=user, requested_by=actor)
        audit(actor, "account.device_reset_request", reset, fields=["user"])
    return reset


def approve_reset(actor, reset_id: int) -> str:
    """A second admin approves: the devices go and a new enrolment link is returned (shown once)."""
    with transaction.atomic():
        reset = (
            DeviceReset.objects.select_for_update()
            .filter(pk=reset_id, approved_at__isnull=True)
            .select_related("user")
            .first()
        )
        if reset is None:
            raise EnrolmentError(_("This reset is no longer waiting for approval."))
        check_target(actor, reset.user)
        if reset.requested_by_id == actor.pk:
            raise EnrolmentError(_("A different admin must approve the reset you requested."))
        reset.approved_by, reset.approved_at = actor, timezone.now()
        reset.save(update_fields=["approved_by", "approved_at"])
        remove_every_device(reset.user)
        audit(actor, "account.device_reset_approve", reset, fields=["otp_device", "recovery_codes"])
        return _issue_link(actor, reset.user)


def open_link(token: str) -> EnrolmentLink | None:
    """The link for ``token`` if it can still be used; None for unknown, used, expired or spent."""
    link = EnrolmentLink.objects.filter(token_hash=token_hash(token)).select_related("user").first()
    return link if link is not None and usable(link) else None


def usable(link: EnrolmentLink) -> bool:
    return (
        link.used_at is None
        and link.expires_at > timezone.now()
        and link.failures < LINK_FAILURES_ALLOWED
        and link.user.is_active
        and link.user.is_staff
    )


def record_failure(link: EnrolmentLink) -> None:
    EnrolmentLink.objects.filter(pk=link.pk).update(failures=F("failures") + 1)
    # A spent link keeps no authenticator secret.
    EnrolmentLink.objects.filter(pk=link.pk, failures__gte=LINK_FAILURES_ALLOWED).update(pending_key_secret="")
    link.refresh_from_db(fields=["failures"])
    audit(None, "account.enrolment_failed", link, fields=["otp_token"], label="enrolment link")


def pending_device(link: EnrolmentLink) -> AuthenticatorDevice:
    """The authenticator being set up with this link, *unsaved*: it is written (confirmed) only
    by ``complete``. Its key is drawn on the first view and kept on the link, encrypted."""
    if not link.pending_key_secret:
        EnrolmentLink.objects.filter(pk=link.pk, pending_key_secret="").update(pending_key_secret=new_key_secret())
        link.refresh_from_db(fields=["pending_key_secret"])
    return AuthenticatorDevice(
        user=link.user, name="authenticator app", key_secret=link.pending_key_secret, confirmed=False
    )


def check_code(device: AuthenticatorDevice, token: str) -> bool:
    """Whether ``token`` is the current code of the unsaved ``device`` (one step of clock skew
    allowed); on success the device remembers the step, so the code cannot be used again."""
    return device.accept_code(token)


def complete(link: EnrolmentLink, device: AuthenticatorDevice, new_password: str | None) -> list[str] | None:
    """Save the confirmed device, spend the link, make recovery codes. None if the link was used
    or changed meanwhile."""
    user = link.user
    with transaction.atomic():
        locked = EnrolmentLink.objects.select_for_update().filter(pk=link.pk).select_related("user").first()
        # Compared as keys, not ciphertexts: a key rotation meanwhile re-encrypted the link's.
        if locked is None or not usable(locked) or decrypt_text(locked.pending_key_secret) != device.key:
            return None
        locked.used_at, locked.pending_key_secret = timezone.now(), ""
        locked.save(update_fields=["used_at", "pending_key_secret"])
        fields = ["otp_device", "recovery_codes"]
        if new_password is not None:
            user.set_password(new_password)
            user.save(update_fields=["password"])
            fields.append("password")
        remove_every_device(user)
        device.confirmed = True
        device.save()
        # Shown once, on the page that follows; only their hashes are stored.
        recovery = RecoveryCodeDevice.objects.create(user=user, name="recovery codes", confirmed=True)
        codes = [new_recovery_code() for _ in range(RECOVERY_CODES)]
        recovery.add_codes(codes)
        audit(user, "account.enrolment_complete", link, fields=fields)
    return codes


def qr_svg(data: str, *, size: int = 232) -> SafeString:
    """``data`` as a QR code: one inline SVG element, drawn here (no image service, no URL)."""
    import qrcode

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(data)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n = len(matrix)
    dark = "".join(f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix) for x, on in enumerate(row) if on)
    # Safe: numbers and a fixed path grammar from the QR matrix, and an escaped label; no input.
    return mark_safe(  # noqa: S308  # nosec B308 B703
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{size}" height="{size}" '
        f'shape-rendering="crispEdges" role="img" aria-label="{escape(_("QR code for your authenticator app"))}">'
        f'<rect width="{n}" height="{n}" fill="#fff"/><path d="{dark}" fill="#000"/></svg>'
    )
