"""`zbor purge_case CODE`: destroy a case's content now (answers, messages, notes, documents).

The plain figures (programme, status, dates, amount) and the links to a campaign or grant stay.
Audited without content.
"""

from django.core.management.base import BaseCommand, CommandError

from zbor.cases.models import Case
from zbor.cases.retention import purge_case
from zbor.db import erase_residue


class Command(BaseCommand):
    help = "Destroy a case's answers, messages, notes and documents. Cannot be undone."

    def add_arguments(self, parser):
        parser.add_argument("code", help="the case code, e.g. ZC-7K4Q-9MX2")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, code: str, yes: bool, **options):
        code = code.strip().upper()
        case = Case.objects.filter(code=code).first()
        if case is None:
            raise CommandError(f"No case has the code {code!r}.")
        if not yes:
            answer = input(f"Destroy everything {code} holds? This cannot be undone. Type the code to confirm: ")
            if answer.strip().upper() != code:
                raise CommandError("Not confirmed; nothing was changed.")
        purge_case(case, label="zbor purge_case")
        self.stdout.write(f"The content of {code} is destroyed. Its plain figures stay for the reports.")
        if not erase_residue():
            raise CommandError(
                "The database's write-ahead log still holds the old (sealed) values: other connections "
                "kept reading. Run the same command again in a minute."
            )
