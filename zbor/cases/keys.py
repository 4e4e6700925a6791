"""The foundation's private key: wrapped per caseworker, unlocked for a working session, rotated.

- At rest the private key exists only wrapped, once per caseworker (``CaseworkerKey``): a
  SecretBox under a key derived from that caseworker's own passphrase with Argon2id.
- Unlocking (``unlock``) unwraps it, then wraps it again under a fresh random 32-byte secret.
  The wrapped copy is a ``CaseSession`` row bound to the signed-in Django session; the secret goes
  only to the caseworker's browser, as the ``COOKIE`` cookie. ``private_key(request)`` rebuilds the
  key from both halves for the length of one request. Neither the database, the cache, the disk
  nor the browser alone holds a usable key.
- Locking deletes the row: the lock button, signing out, the end of the session (the row is bound
  to the session and expires with it), losing the caseworker role, and every rotation.
- Rotation (``rotate``) makes a new pair, re-seals everything registered with
  ``zbor.cases.sealing.register_sealed`` and re-wraps the key for the caseworker running it. With
  hand-over, the new private key is also sealed to the old public key, so the other caseworkers'
  old copies yield a copy of the new key at their next unlock (``unlock`` re-wraps it under their
  passphrase and deletes the old copy). Without hand-over (after removing a caseworker or when the
  old key may be known to someone) the old copies are deleted and the others are added again.

docs/decisions/0016-sealed-applications.md says why and what this does not protect against.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from nacl import pwhash
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox
from nacl.secret import SecretBox
from nacl.utils import random as random_bytes

from zbor import private_files, ratelimit
from zbor.accounts.services import audit

from .models import CaseSession, CaseworkerKey, FoundationKey
from .sealing import b64, kdf_limits, registered_sealed, seal, seal_file, sealed_key_id, unb64, unseal, unseal_file

#: The browser's half of an unlock. Its path is the admin's (set in ``unlock_response``).
COOKIE = "zbor_casework"
PASSPHRASE_MIN_LENGTH = 12
UNLOCK_PERMISSION = "cases.unlock_casework"
_FAILURE_WINDOW = 15 * 60


class WrongPassphrase(Exception):
    """The passphrase does not open this caseworker's copy (or the copy is damaged)."""


class NoCopy(Exception):
    """This person has no copy of the active key (never added, removed, or a rotation without
    hand-over happened since)."""


class Throttled(Exception):
    """Too many wrong passphrases for this person lately."""


# --- passphrases and wrapping ------------------------------------------------------------------


def check_passphrase(passphrase: str, user=None) -> None:
    """Refuse a weak passphrase with clear, translated reasons (ValidationError)."""
    errors: list[str] = []
    if len(passphrase) < PASSPHRASE_MIN_LENGTH:
        errors.append(
            _("The passphrase must be at least %(n)d characters long: a few unrelated words are best.")
            % {"n": PASSPHRASE_MIN_LENGTH}
        )
    elif len(set(passphrase)) < 6:
        errors.append(_("The passphrase repeats too few different characters."))
    validators: list[password_validation.PasswordValidator] = [
        password_validation.CommonPasswordValidator(),
        password_validation.NumericPasswordValidator(),
        password_validation.UserAttributeSimilarityValidator(),
    ]
    try:
        password_validation.validate_password(passphrase, user, password_validators=validators)
    except ValidationError as error:
        errors += error.messages
    if user is not None and user.check_password(passphrase):
        errors.append(_("The passphrase must not be your sign-in password."))
    if errors:
        raise ValidationError(errors)


def _derive(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> bytes:
    return pwhash.argon2id.kdf(SecretBox.KEY_SIZE, passphrase.encode(), salt, opslimit=opslimit, memlimit=memlimit)


def give_copy(user, key: PrivateKey, foundation_key: FoundationKey, passphrase: str, *, by=None) -> CaseworkerKey:
    """Wrap ``key`` (the private half of ``foundation_key``) for ``user`` under their passphrase,
    replacing any copy they had of that key. The passphrase is checked for strength first."""
    check_passphrase(passphrase, user)
    if bytes(key.public_key) != unb64(foundation_key.public_key):
        raise ValueError("this private key is not the foundation key's")
    ops, mem = kdf_limits(settings.ZBOR_CASEWORKER_KDF)
    salt = random_bytes(pwhash.argon2id.SALTBYTES)
    wrapped = SecretBox(_derive(passphrase, salt, ops, mem)).encrypt(bytes(key))
    copy, _created = CaseworkerKey.objects.update_or_create(
        user=user,
        foundation_key=foundation_key,
        defaults={
            "wrapped": b64(wrapped),
            "salt": b64(salt),
            "opslimit": ops,
            "memlimit": mem,
            "created_by": by if getattr(by, "pk", None) else None,
            "created_at": timezone.now(),
        },
    )
    return copy


def unwrap(copy: CaseworkerKey, passphrase: str) -> PrivateKey:
    """The private key in ``copy``; ``WrongPassphrase`` if the passphrase does not open it."""
    try:
        box = SecretBox(_derive(passphrase, unb64(copy.salt), copy.opslimit, copy.memlimit))
        key = PrivateKey(box.decrypt(unb64(copy.wrapped)))
    except (CryptoError, ValueError):
        raise WrongPassphrase from None
    if bytes(key.public_key) != unb64(copy.foundation_key.public_key):
        raise WrongPassphrase
    return key


def create_first_key(user, passphrase: str, *, label: str = "") -> FoundationKey:
    """The first key pair, wrapped for ``user``; refused if any foundation key exists."""
    with transaction.atomic():
        if FoundationKey.objects.select_for_update().exists():
            raise ValueError(_("A foundation key exists already: add caseworkers to it, or rotate it."))
        key = PrivateKey.generate()
        check_passphrase(passphrase, user)
        foundation_key = FoundationKey.objects.create(
            public_key=b64(bytes(key.public_key)), active=True, created_by=user
        )
        give_copy(user, key, foundation_key, passphrase, by=user)
        audit(user, "cases.key.create", foundation_key, label=label)
    return foundation_key


def is_caseworker(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(UNLOCK_PERMISSION))


# --- opening one's copy --------------------------------------------------------------------------


def _failure_rule() -> ratelimit.Rule:
    return ratelimit.Rule("case-unlock", settings.ZBOR_LOGIN_FAILURES_ALLOWED, _FAILURE_WINDOW)


def _failure_subject(user) -> str:
    return ratelimit.salted_hash("case-unlock", str(user.pk))


def open_copy(user, passphrase: str, *, label: str = "") -> tuple[FoundationKey, PrivateKey]:
    """The active key, opened with ``user``'s passphrase: throttled, audited on failure. Follows a
    rotation's hand-over from an older copy (and re-wraps it for the active key)."""
    if not is_caseworker(user):
        raise NoCopy
    if ratelimit.reached(_failure_rule(), _failure_subject(user)):
        audit(user, "cases.unlock.throttled", label=label)
        raise Throttled
    active = FoundationKey.objects.filter(active=True).first()
    copies = {c.foundation_key_id: c for c in CaseworkerKey.objects.filter(user=user).select_related("foundation_key")}
    if active is None or not copies:
        raise NoCopy
    copy = copies.get(active.pk) or max(copies.values(), key=lambda c: c.foundation_key.created_at)
    try:
        key = unwrap(copy, passphrase)
    except WrongPassphrase:
        ratelimit.hit(_failure_rule(), _failure_subject(user))
        audit(user, "cases.unlock.failed", label=label)
        raise
    if copy.foundation_key_id != active.pk:
        key = _follow_handover(user, copy, key, active, passphrase)
    return active, key


def _follow_handover(user, copy: CaseworkerKey, key: PrivateKey, active: FoundationKey, passphrase: str) -> PrivateKey:
    current = copy.foundation_key
    while current.pk != active.pk:
        successor = current.successor
        if successor is None or not current.successor_sealed:
            raise NoCopy
        try:
            key = PrivateKey(SealedBox(key).decrypt(unb64(current.successor_sealed)))
        except (CryptoError, ValueError):
            raise NoCopy from None
        current = successor
    with transaction.atomic():
        give_copy(user, key, active, passphrase, by=user)
        CaseworkerKey.objects.filter(user=user).exclude(foundation_key=active).delete()
        audit(user, "cases.key.rewrap", active)
    return key


# --- the unlocked session ----------------------------------------------------------------------


def _session_hash(session_key: str) -> str:
    return hashlib.sha256(f"zbor-casework:{session_key}".encode()).hexdigest()


def cookie_path() -> str:
    return "/" + settings.ZBOR_ADMIN_PATH


def unlock(request, passphrase: str) -> str:
    """Unlock for this signed-in session; returns the secret for the cookie (``set_cookie``).
    Raises NoCopy, Throttled or WrongPassphrase."""
    user = request.user
    foundation_key, key = open_copy(user, passphrase)
    if not request.session.session_key:
        request.session.save()
    secret = secrets.token_bytes(SecretBox.KEY_SIZE)
    now = timezone.now()
    expires_at = min(request.session.get_expiry_date(), now + timedelta(seconds=settings.ZBOR_CASE_UNLOCK_SECONDS))
    with transaction.atomic():
        CaseSession.objects.filter(user=user).delete()
        CaseSession.objects.filter(expires_at__lte=now).delete()
        CaseSession.objects.create(
            user=user,
            session_hash=_session_hash(request.session.session_key),
            foundation_key=foundation_key,
            wrapped=b64(SecretBox(secret).encrypt(bytes(key))),
            expires_at=expires_at,
        )
        audit(user, "cases.unlock", foundation_key)
    request._zbor_case_unlock = (secret, expires_at)
    return b64(secret)


def set_cookie(request, response) -> None:
    """Give the browser its half after ``unlock`` (HttpOnly, SameSite=Strict, admin path only)."""
    secret, expires_at = request._zbor_case_unlock
    response.set_cookie(
        COOKIE,
        b64(secret),
        max_age=max(1, int((expires_at - timezone.now()).total_seconds())),
        path=cookie_path(),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def unlocked_session(request) -> CaseSession | None:
    user = getattr(request, "user", None)
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if not session_key or not user or not user.is_authenticated or not request.COOKIES.get(COOKIE):
        return None
    row = CaseSession.objects.filter(user=user, session_hash=_session_hash(session_key)).first()
    if row is None:
        return None
    if row.expires_at <= timezone.now() or not is_caseworker(user):
        lock_user(user, reason="expired" if row.expires_at <= timezone.now() else "role")
        return None
    return row


def private_key(request) -> PrivateKey | None:
    """The foundation private key for this request, rebuilt from the session row and the cookie;
    None unless this signed-in caseworker unlocked in this session and it has not expired."""
    row = unlocked_session(request)
    if row is None:
        return None
    try:
        return PrivateKey(SecretBox(unb64(request.COOKIES[COOKIE])).decrypt(unb64(row.wrapped)))
    except (CryptoError, ValueError):
        return None


def is_unlocked(request) -> bool:
    return private_key(request) is not None


def lock_user(user, *, reason: str = "button") -> int:
    """Delete every unlock of ``user``; audited when there was one."""
    deleted, _detail = CaseSession.objects.filter(user=user).delete()
    if deleted:
        audit(user, "cases.lock", fields=[reason])
    return deleted


def lock(request, response=None) -> None:
    """The lock button: delete the server half and tell the browser to forget its half."""
    lock_user(request.user, reason="button")
    if response is not None:
        response.delete_cookie(COOKIE, path=cookie_path(), samesite="Strict")


def forget_expired_unlocks() -> int:
    """Delete every expired unlock (the periodic task in zbor.cases.unlock_tasks)."""
    deleted, _detail = CaseSession.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def lock_on_logout(sender, request, user, **kwargs) -> None:
    """Receiver of ``user_logged_out``."""
    if user is not None:
        lock_user(user, reason="logout")


def remove_caseworker(user, *, by=None, label: str = "") -> int:
    """Take away every copy ``user`` has of the key and lock them; audited."""
    with transaction.atomic():
        deleted, _detail = CaseworkerKey.objects.filter(user=user).delete()
        CaseSession.objects.filter(user=user).delete()
        audit(by, "cases.caseworker.remove", user, label=label)
    return deleted


# --- rotation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rotated:
    key: FoundationKey
    values: int
    files: int


def _reseal_all(old: PrivateKey, old_id: int) -> tuple[int, int, list[str], list[str]]:
    """Re-seal every registered value and file still sealed to ``old_id``."""
    values = files = 0
    names: list[str] = []
    stale_files: list[str] = []
    for entry in registered_sealed():
        label = entry.model._meta.label_lower
        names += [f"{label}.{field}" for field in entry.fields]
        for obj in entry.model.objects.select_for_update().order_by("pk").iterator():
            changed = [f for f in entry.fields if sealed_key_id(getattr(obj, f)) == old_id]
            for field in changed:
                setattr(obj, field, seal(unseal(getattr(obj, field), old)))
            name = getattr(obj, entry.file_field) if entry.file_field else ""
            data = private_files.load(name) if name else b""
            if data.startswith(f"{old_id}:".encode()):
                sealed = seal_file(unseal_file(data, old))
                setattr(obj, entry.file_field, private_files.store(sealed))
                stale_files.append(name)
                changed.append(entry.file_field)
                files += 1
            if changed:
                obj.save(update_fields=changed)
                values += 1
    return values, files, names, stale_files


def _delete_files(names: list[str]) -> None:
    for name in names:
        private_files.delete(name)


def rotate(user, passphrase: str, *, handover: bool = True, label: str = "") -> Rotated:
    """A new key pair; everything sealed re-sealed to it; ``user``'s copy re-wrapped. See the
    module docstring for ``handover``."""
    from .models import Case

    old_fk, old = open_copy(user, passphrase, label=label)
    new = PrivateKey.generate()
    with transaction.atomic():
        old_fk = FoundationKey.objects.select_for_update().get(pk=old_fk.pk, active=True)
        old_fk.active = False
        old_fk.save(update_fields=["active"])
        new_fk = FoundationKey.objects.create(public_key=b64(bytes(new.public_key)), active=True, created_by=user)
        old_fk.successor = new_fk
        old_fk.successor_sealed = b64(SealedBox(old.public_key).encrypt(bytes(new))) if handover else ""
        old_fk.save(update_fields=["successor", "successor_sealed"])
        values, files, names, stale = _reseal_all(old, old_fk.pk)
        Case.objects.filter(key=old_fk).update(key=new_fk)
        give_copy(user, new, new_fk, passphrase, by=user)
        if not handover:
            CaseworkerKey.objects.exclude(foundation_key=new_fk).delete()
        CaseSession.objects.all().delete()
        audit(user, "cases.key.rotate", new_fk, fields=names, label=label)
        transaction.on_commit(partial(_delete_files, stale))
    # Whatever a request sealed to the old key while this ran (it read the old key before the
    # commit) is re-sealed now, with the old key still in this process's memory.
    with transaction.atomic():
        late_values, late_files, _names, late_stale = _reseal_all(old, old_fk.pk)
        Case.objects.filter(key=old_fk).update(key=new_fk)
        transaction.on_commit(partial(_delete_files, late_stale))
    return Rotated(new_fk, values + late_values, files + late_files)
