"""`zbor totp_enroll USERNAME`: give a staff member an authenticator app (TOTP) device.

Prints the otpauth address and a QR code to scan in the terminal. The person signs in with the
six-digit code from then on. Run again to replace a lost phone (the old device is removed, and any plaintext one a previous
release left; recovery codes stay).
The key is stored encrypted (zbor.accounts.models.AuthenticatorDevice); it is printed here once.
This is for the first admin, on the server; everyone else sets up their own device with an
enrolment link from an admin (the user's "two-factor" page in the back office).
"""

import io

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from zbor.accounts.models import AuthenticatorDevice
from zbor.accounts.services import audit


class Command(BaseCommand):
    help = "Create (or replace) a staff member's authenticator-app device and print its QR code."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        user = get_user_model().objects.filter(username=username, is_staff=True, is_active=True).first()
        if user is None:
            raise CommandError(f"No active staff member is called {username!r}.")
        with transaction.atomic():
            # Every authenticator: Zbor's, and a plaintext one of django-otp's an old server made.
            AuthenticatorDevice.objects.filter(user=user).delete()
            TOTPDevice.objects.filter(user=user).delete()
            device = AuthenticatorDevice.objects.create(user=user, name="authenticator app", confirmed=True)
            audit(None, "account.totp_enroll", user, fields=["otp_device"], label="zbor totp_enroll")
        qr = qrcode.QRCode(border=2)
        qr.add_data(device.config_url)
        # Drawn into a buffer and written once: the command's stdout ends every write() with a
        # newline, which turned each half-block character into a line of its own.
        drawing = io.StringIO()
        qr.print_ascii(out=drawing, invert=True)
        self.stdout.write(drawing.getvalue(), ending="")
        self.stdout.write(device.config_url)
        self.stdout.write("Scan it with an authenticator app; sign-in now asks for its six-digit code.")
