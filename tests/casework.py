"""Test helpers for casework (zbor.cases): a foundation key pair, caseworkers holding a copy of
it, and unlocking through the real "Unlock casework" page.

    fk, private = foundation_keys()            # the active FoundationKey and its private half
    anna = caseworker("anna")                   # role "caseworker" + a copy wrapped with PASSPHRASE
    unlock(client, anna)                        # signs the client in and unlocks (the real view)
"""

from __future__ import annotations

from django.urls import reverse
from nacl.public import PrivateKey

from tests import factories
from zbor.cases.keys import give_copy
from zbor.cases.models import FoundationKey
from zbor.cases.sealing import b64

#: A passphrase that passes the strength check.
PASSPHRASE = "lantern orchard seventeen quietly"

#: Private halves made by foundation_keys(), by public key (the database never holds them).
_PRIVATE: dict[str, PrivateKey] = {}


def foundation_keys(*, new: bool = False) -> tuple[FoundationKey, PrivateKey]:
    """The active foundation key and its private half, made when there is none (or ``new``: a
    fresh pair becomes the active one, as a rotation's would, without re-sealing anything)."""
    active = FoundationKey.objects.filter(active=True).first()
    if active is not None and not new:
        if active.public_key not in _PRIVATE:
            raise LookupError("the active foundation key was not made by tests/casework.py")
        return active, _PRIVATE[active.public_key]
    FoundationKey.objects.filter(active=True).update(active=False)
    private = PrivateKey.generate()
    key = FoundationKey.objects.create(public_key=b64(bytes(private.public_key)), active=True)
    _PRIVATE[key.public_key] = private
    return key, private


def caseworker(username: str | None = None, *, passphrase: str = PASSPHRASE, copy: bool = True):
    """A staff member with the caseworker role and (``copy``) the active key wrapped for them."""
    user = factories.role_user("caseworker", username)
    if copy:
        key, private = foundation_keys()
        give_copy(user, private, key, passphrase, by=None)
    return user


def unlock(client, user, passphrase: str = PASSPHRASE):
    """Sign ``client`` in as ``user`` and post the passphrase to "Unlock casework"; the response."""
    client.force_login(user)
    return client.post(reverse("admin:cases_unlock"), {"passphrase": passphrase})
