"""The audit log (one append-only row per staff action; the database refuses UPDATE and DELETE),
staff change requests, two-factor enrolment, the authenticator-app device and recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from base64 import b32encode
from binascii import Error as BadHex
from binascii import unhexlify
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP
from django_otp.util import random_hex

from zbor.crypto import UnreadableSecret, decrypt_text, encrypt_text

logger = logging.getLogger("zbor.security")


class AuditEvent(models.Model):
    at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    # PROTECT: a person with audit history is deactivated, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    #: The actor's username at the time, or the command that acted ("zbor purge_beneficiary").
    actor_label = models.CharField(_("who"), max_length=150)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    #: Names of the fields read or changed — never their values.
    fields = models.JSONField(_("fields"), default=list, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        ordering = ["-at", "-pk"]
        permissions = [("export_auditevent", _("Can export the audit log"))]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"


class RateCounter(models.Model):
    """One fixed-window counter of the embedded rate limiter (zbor/ratelimit.py), which also
    counts failed staff sign-ins. The limiter writes it with SQL (it imports no app); the model
    is here so that migrations create the table.

    The key is a hash of the rule, the window and what is counted (a salted client hash, a
    campaign id): the table never holds an address. Rows are deleted once their window ends.
    """

    key = models.CharField(max_length=64, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "zbor_rate_counter"

    def __str__(self) -> str:
        return f"{self.count} until {self.expires_at:%H:%M:%S}"


class StaffChangeRequest(models.Model):
    """A change to someone's roles, or a reset of their password, waiting for a second admin.

    Made by one admin, decided by another who is neither the requester nor the person changed:
    nobody gives themselves roles, and no single admin takes over a colleague's account. Both
    steps are in the audit log. The request holds role names and flags only — never a password.
    """

    class Kind(models.TextChoices):
        ROLES = "roles", _("change of roles")
        PASSWORD = "password", _("password reset")

    class State(models.TextChoices):
        PENDING = "pending", _("waiting for a second admin")
        APPROVED = "approved", _("approved and applied")
        REJECTED = "rejected", _("rejected")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("staff member")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by")
    )
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    #: For a change of roles: the role names, is_staff and is_superuser before and as requested.
    roles_before = models.JSONField(_("roles before"), default=list, blank=True)
    roles_after = models.JSONField(_("roles requested"), default=list, blank=True)
    is_staff_before = models.BooleanField(_("back-office access before"), default=False)
    is_staff_after = models.BooleanField(_("back-office access requested"), default=False)
    is_superuser_before = models.BooleanField(_("superuser before"), default=False)
    is_superuser_after = models.BooleanField(_("superuser requested"), default=False)
    reason = models.CharField(_("reason"), max_length=300)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        verbose_name = _("staff change request")
        verbose_name_plural = _("staff change requests")
        ordering = ["-requested_at", "-pk"]
        permissions = [
            ("request_staff_change", _("Can request a change of someone's roles or a password reset")),
            ("decide_staff_change", _("Can approve or reject another admin's staff change request")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.target_id} ({self.get_state_display()})"


class EnrolmentLink(models.Model):
    """A one-time link with which a staff member sets up two-factor sign-in themselves.

    Only a SHA-256 hash of the link's secret is stored: the database (or a backup) does not
    hold a usable link. A link is used once, expires, and is spent after a few wrong tries.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveSmallIntegerField(default=0)
    #: The authenticator key being set up (hex, encrypted with ``zbor.crypto``), shown on the
    #: page until confirmed. It becomes a device only once a code from it is confirmed: an
    #: abandoned or expired link leaves nothing that could be used to sign in.
    pending_key_secret = models.TextField(blank=True, editable=False, db_default="")
    #: The plaintext column of earlier releases, always empty now (migration 0008 moved what it
    #: held into ``pending_key_secret``); dropped in a later release (expand, then contract).
    pending_key = models.CharField(max_length=80, blank=True, editable=False)

    class Meta:
        verbose_name = _("enrolment link")
        verbose_name_plural = _("enrolment links")

    def __str__(self) -> str:
        return f"enrolment link {self.pk}"


class DeviceReset(models.Model):
    """A request to remove a staff member's two-factor devices (a lost phone). One admin asks,
    a different admin approves; approval removes the devices and issues a new enrolment link."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("two-factor reset")
        verbose_name_plural = _("two-factor resets")

    def __str__(self) -> str:
        return f"two-factor reset {self.pk}"


def _settle(device, accepted: bool) -> bool:
    """A verified code's bookkeeping, the same for both devices: a wrong one backs off, a right
    one lifts the back-off and marks the device used."""
    if not accepted:
        device.throttle_increment(commit=True)
        return False
    device.throttle_reset(commit=False)
    device.set_last_used_timestamp(commit=False)
    device.save()
    return True


def new_key_secret() -> str:
    """A new authenticator key (20 random bytes, as django-otp's TOTPDevice makes them), encrypted."""
    return encrypt_text(random_hex(20))


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """An authenticator app (TOTP, RFC 6238) whose key is stored encrypted (``zbor.crypto``).

    It verifies exactly as django-otp's ``TOTPDevice``, which stored the key as plain hex in every
    dump: 30-second steps, six digits, ``tolerance`` steps either side, the phone's ``drift``
    learnt from each code (``OTP_TOTP_SYNC``), a code accepted only at a step later than the last
    one (``last_t``: no replay), and an exponential back-off after wrong codes
    (``OTP_TOTP_THROTTLE_FACTOR``). It is a django-otp ``Device``, one of the two that sign in
    (zbor.accounts.devices.SIGN_IN_DEVICES). A seized database shows Fernet ciphertext
    only; ``zbor rotate_encryption_keys`` re-encrypts ``key_secret`` (zbor/accounts/apps.py).
    """

    key_secret = models.TextField(editable=False, default=new_key_secret)
    #: As django-otp's TOTPDevice: the step in seconds, the Unix time steps count from, the code's
    #: length, the steps of clock skew allowed either side, the steps the phone is known to be
    #: off, and the step of the last code accepted (the next must be later).
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(choices=[(6, 6), (8, 8)], default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    @property
    def key(self) -> str:
        """The key as hex, decrypted (never stored so)."""
        return decrypt_text(self.key_secret)

    @key.setter
    def key(self, value: str) -> None:
        # Checked here, not with a validator: its message would quote the key.
        try:
            size = len(unhexlify(value.encode()))
        except (BadHex, ValueError):
            raise ValueError("an authenticator key is hex-encoded") from None
        if not 0 < size <= 40:
            raise ValueError("an authenticator key has 1 to 40 bytes")
        self.key_secret = encrypt_text(value)

    @property
    def bin_key(self) -> bytes:
        return unhexlify(self.key.encode())

    def accept_code(self, token) -> bool:
        """Whether ``token`` is a code of this key within the tolerance, at a step later than the
        last one accepted; if so the device remembers that step (and the drift) *without saving*.
        Enrolment checks its unsaved device with this; sign-in goes through ``verify_token``."""
        try:
            value = int(token)
        except (TypeError, ValueError):
            return False
        try:
            key = self.bin_key
        except UnreadableSecret:
            # A key removed from ZBOR_ENCRYPTION_KEYS too early: this device cannot sign anyone in
            # (recovery codes still can), and the operator must hear of it; never a 500.
            logger.error("authenticator device %s: none of ZBOR_ENCRYPTION_KEYS opens its key", self.pk)
            return False
        totp = TOTP(key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        if not totp.verify(value, self.tolerance, self.last_t + 1):
            return False
        self.last_t = totp.t()
        if getattr(settings, "OTP_TOTP_SYNC", True):
            self.drift = totp.drift
        return True

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        return _settle(self, self.accept_code(token))

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    @property
    def config_url(self) -> str:
        """The ``otpauth://`` address an authenticator app scans (Key Uri Format), as django-otp's
        TOTPDevice writes it; the issuer is ``OTP_TOTP_ISSUER`` if set."""
        label = str(self.user.get_username())
        params = urlencode(
            {"secret": b32encode(self.bin_key), "algorithm": "SHA1", "digits": self.digits, "period": self.step}
        )
        issuer = getattr(settings, "OTP_TOTP_ISSUER", None)
        if callable(issuer):
            issuer = issuer(self)
        if isinstance(issuer, str) and issuer:
            issuer = issuer.replace(":", "")
            label = f"{issuer}:{label}"
            params += f"&issuer={quote(issuer)}"
        return f"otpauth://totp/{quote(label)}?{params}"


#: Recovery codes are 10 random bytes: 16 base32 characters (80 bits), shown in groups of four.
RECOVERY_CODE_BYTES = 10
#: The scrypt cost of new devices (N; r=8, p=1 as Django's scrypt hasher): one hash per code
#: typed, about 40 ms and 16 MiB. Each device keeps its own, so raising it later breaks nothing.
RECOVERY_CODE_WORK = 2**14
_BASE32 = frozenset("abcdefghijklmnopqrstuvwxyz234567")


def normalise_recovery_code(code: str) -> str:
    """A code as typed (any case, spaces, dashes) in the one form that is hashed."""
    return "".join(ch for ch in str(code).lower() if ch not in " -\t\r\n")


def new_recovery_code() -> str:
    """A new recovery code as shown: ``xxxx-xxxx-xxxx-xxxx``, base32 (a-z, 2-7), 80 bits."""
    raw = b32encode(secrets.token_bytes(RECOVERY_CODE_BYTES)).decode().lower()
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def looks_like_recovery_code(code: str) -> bool:
    """Whether ``code`` could be a recovery code at all (8 or 16 base32 characters, normalised):
    anything else, such as a six-digit authenticator code, is refused without hashing."""
    value = normalise_recovery_code(code)
    return len(value) in (8, 16) and set(value) <= _BASE32


def hash_recovery_code(code: str, salt: str, work: int) -> str:
    """The stored form of ``code`` (normalised first): scrypt, the device's salt (hex) and cost."""
    value = normalise_recovery_code(code).encode()
    # scrypt needs 128 * r * N bytes; hashlib refuses above maxmem (32 MiB unless told).
    return hashlib.scrypt(
        value, salt=bytes.fromhex(salt), n=work, r=8, p=1, dklen=32, maxmem=1024 * work + 2**20
    ).hex()


def _new_salt() -> str:
    return secrets.token_hex(16)


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """A staff member's recovery codes, stored only as hashes: each code signs in once, instead of
    an authenticator code.

    django-otp's ``StaticDevice`` kept them in plain text, so a seized database plus a cracked
    password was a sign-in. Here a code is hashed with scrypt (``hashlib``), salted per device,
    cost ``work`` (N; r=8, p=1), and a code typed is hashed once and compared with each stored
    digest in constant time; the one matched is deleted (a concurrent second use finds it gone).
    New codes have 80 bits (16 base32 characters); the 8-character codes django-otp made (40 bits)
    moved here hashed the same way by migration 0010 and keep working, but against a dump they
    cost only 2^40 scrypt hashes to search: re-enrol whoever still has them. The salt is per
    device, not per code, so a sign-in costs one hash, not ten. No key: SECRET_KEY and
    ZBOR_ENCRYPTION_KEYS rotate, and hashes made with a key would all stop matching.

    Wrong codes back off exponentially (``OTP_STATIC_THROTTLE_FACTOR``, django-otp's setting for
    its static codes). A code that cannot be one (a six-digit authenticator code) is refused
    without hashing. Sign-in tries it after ``AuthenticatorDevice`` (zbor.accounts.devices), so an
    authenticator code is checked there first.
    """

    salt = models.CharField(max_length=32, default=_new_salt, editable=False)
    work = models.PositiveIntegerField(default=RECOVERY_CODE_WORK, editable=False)

    class Meta(Device.Meta):
        verbose_name = _("recovery codes")
        verbose_name_plural = _("recovery codes")

    def digest(self, code: str) -> str:
        """The stored form of ``code`` for this device."""
        return hash_recovery_code(code, self.salt, self.work)

    def add_codes(self, codes) -> None:
        """Store the hashes of ``codes`` (the device is saved)."""
        RecoveryCode.objects.bulk_create([RecoveryCode(device=self, digest=self.digest(code)) for code in codes])

    def verify_token(self, token) -> bool:
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        matched = None
        if looks_like_recovery_code(token or ""):
            typed = self.digest(token)
            # Every stored digest compared, without stopping at a match.
            for pk, digest in self.codes.values_list("pk", "digest"):
                if hmac.compare_digest(typed, digest):
                    matched = pk
        # Deleted, not marked: the code is gone. Two sign-ins racing with it: one deletes it.
        return _settle(self, matched is not None and RecoveryCode.objects.filter(pk=matched).delete()[0] > 0)

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_STATIC_THROTTLE_FACTOR", 1)


class RecoveryCode(models.Model):
    """One unused recovery code of a ``RecoveryCodeDevice``: its scrypt hash, never the code."""

    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    digest = models.CharField(max_length=64, editable=False)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")

    def __str__(self) -> str:
        return f"recovery code {self.pk}"
