from django.core.management.base import BaseCommand

from zbor.accounts.roles import sync_roles


class Command(BaseCommand):
    help = "Make the editor, finance and admin groups hold exactly the permissions defined in zbor/accounts/roles.py."

    def handle(self, *args, **options):
        sync_roles()
        self.stdout.write("Roles synced: editor, finance, admin.")
