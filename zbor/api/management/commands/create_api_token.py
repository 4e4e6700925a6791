"""`zbor create_api_token USERNAME NAME --scope …`: make a staff API token; it is printed once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from zbor.api.models import Scope
from zbor.api.tokens import create_token


class Command(BaseCommand):
    help = "Create a scoped staff API token for a finance integration. The token is shown once."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("name")
        parser.add_argument("--scope", action="append", required=True, choices=Scope.values)

    def handle(self, *args, username, name, scope, **options):
        user = get_user_model().objects.filter(username=username, is_staff=True, is_active=True).first()
        if user is None:
            raise CommandError(f"No active staff member is called {username!r}.")
        try:
            record, token = create_token(user, name=name, scopes=scope, label="zbor create_api_token")
        except ValueError as exc:
            raise CommandError(f"No token was made: {exc}.") from exc
        self.stdout.write(token)
        self.stdout.write(
            f"Token {record.prefix}… for {username}, scopes {', '.join(record.scopes)}. It is not shown again."
        )
