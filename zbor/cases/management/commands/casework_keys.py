"""The foundation key for casework, at a terminal (docs/decisions/0016-sealed-applications.md).

    zbor casework_keys init USER            the first key pair, wrapped for USER (asks their passphrase twice)
    zbor casework_keys add USER --by OTHER  OTHER (a caseworker) opens their copy; USER types a new passphrase
    zbor casework_keys remove USER          deletes USER's copy and unlock
    zbor casework_keys rotate --by USER     new key pair, everything re-sealed (--no-handover: see below)
    zbor casework_keys list                 who holds a copy of which key

Passphrases are asked with getpass (never arguments: they would land in the shell's history).
"""

from __future__ import annotations

from getpass import getpass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from zbor.accounts.services import audit
from zbor.cases import keys
from zbor.cases.models import CaseworkerKey

LABEL = "command casework_keys"


def _user(username: str):
    try:
        return get_user_model().objects.get(username=username)
    except get_user_model().DoesNotExist:
        raise CommandError(f"No user {username!r}.") from None


def _new_passphrase(user) -> str:
    first = getpass(f"New casework passphrase for {user.get_username()}: ")
    if getpass("The same passphrase again: ") != first:
        raise CommandError("The two passphrases differ.")
    try:
        keys.check_passphrase(first, user)
    except ValidationError as error:
        raise CommandError(" ".join(error.messages)) from None
    return first


def _open(user):
    try:
        return keys.open_copy(user, getpass(f"Casework passphrase of {user.get_username()}: "), label=LABEL)
    except keys.WrongPassphrase:
        raise CommandError("This passphrase does not open the copy.") from None
    except keys.Throttled:
        raise CommandError("Too many wrong passphrases: wait 15 minutes.") from None
    except keys.NoCopy:
        raise CommandError(
            f"{user.get_username()} holds no usable copy of the current key (or lacks the role)."
        ) from None


class Command(BaseCommand):
    help = "Create, share, take away and rotate the foundation key that opens casework."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("init").add_argument("user")
        add = sub.add_parser("add")
        add.add_argument("user")
        add.add_argument("--by", required=True, help="a caseworker who holds the key and types their passphrase")
        sub.add_parser("remove").add_argument("user")
        rotate = sub.add_parser("rotate")
        rotate.add_argument("--by", required=True, help="the caseworker running the rotation")
        rotate.add_argument(
            "--no-handover",
            action="store_true",
            help="delete the other caseworkers' copies instead of letting them re-wrap the new key at their "
            "next unlock (use after removing a caseworker, or if the old key may be known)",
        )
        sub.add_parser("list")

    def handle(self, *args, action, **options):
        getattr(self, f"do_{action}")(**options)

    def do_init(self, *, user, **options):
        person = _user(user)
        if not keys.is_caseworker(person):
            raise CommandError(f"{user} does not hold the caseworker role.")
        try:
            key = keys.create_first_key(person, _new_passphrase(person), label=LABEL)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Foundation key {key.pk} created; {user} holds a copy.")

    def do_add(self, *, user, by, **options):
        helper, newcomer = _user(by), _user(user)
        if not keys.is_caseworker(newcomer):
            raise CommandError(f"{user} does not hold the caseworker role.")
        foundation_key, private = _open(helper)
        keys.give_copy(newcomer, private, foundation_key, _new_passphrase(newcomer), by=helper)
        audit(helper, "cases.caseworker.add", newcomer, label=LABEL)
        self.stdout.write(f"{user} holds a copy of foundation key {foundation_key.pk}.")

    def do_remove(self, *, user, **options):
        count = keys.remove_caseworker(_user(user), label=LABEL)
        self.stdout.write(f"{user}: {count} copy(ies) deleted.")

    def do_rotate(self, *, by, no_handover, **options):
        person = _user(by)
        try:
            result = keys.rotate(
                person, getpass(f"Casework passphrase of {by}: "), handover=not no_handover, label=LABEL
            )
        except keys.WrongPassphrase:
            raise CommandError("This passphrase does not open the copy.") from None
        except (keys.Throttled, keys.NoCopy):
            raise CommandError(f"{by} cannot open the current key now.") from None
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(
            f"Foundation key {result.key.pk} is active: {result.values} record(s) and {result.files} file(s) re-sealed."
        )
        if no_handover:
            self.stdout.write("Other caseworkers' copies were deleted: add them again (casework_keys add).")

    def do_list(self, **options):
        for copy in CaseworkerKey.objects.select_related("user", "foundation_key").order_by("user__username"):
            state = "active" if copy.foundation_key.active else "old"
            self.stdout.write(
                f"{copy.user.get_username()}\tkey {copy.foundation_key_id} ({state})\t{copy.created_at:%Y-%m-%d}"
            )
