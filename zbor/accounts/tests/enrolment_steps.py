"""Steps the two-factor enrolment tests share: the people, the link, the codes, the sign-in."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_otp.oath import totp

from tests import factories
from zbor.accounts import enrolment
from zbor.accounts.models import AuthenticatorDevice, EnrolmentLink

PASSWORD = "correct horse battery"


def admin(username=None):
    return factories.role_user("admin", username)


def new_staff(username="newcomer"):
    """A staff member as an admin creates one: no usable password, no device."""
    user = get_user_model().objects.create_user(username=username, is_staff=True)
    user.set_unusable_password()
    user.save()
    return user


def code_for(device) -> str:
    if device.pk:
        device.refresh_from_db()
    return f"{totp(device.bin_key):06d}"


def open_link(client, token):
    response = client.get(f"/backoffice/enrol/{token}/")
    assert response.status_code == 302, response.status_code
    assert response["Location"] == "/backoffice/enrol/"
    page = client.get("/backoffice/enrol/")
    assert page.status_code == 200
    link = EnrolmentLink.objects.get(pk=client.session["zbor_enrol_link"])
    assert link.pending_key_secret
    return page, enrolment.pending_device(link)  # unsaved: nothing exists to sign in with yet


def finish(client, device, **data):
    return client.post("/backoffice/enrol/", {"otp_token": code_for(device), **data})


def _enrolled(client):
    user = new_staff()
    _page, device = open_link(client, enrolment.create_link(admin(), user))
    codes = finish(
        client, device, new_password1="a long new passphrase 7", new_password2="a long new passphrase 7"
    ).context["codes"]
    client.logout()
    return user, AuthenticatorDevice.objects.get(user=user), codes


def _sign_in(client, user, token, device=None):
    data = {
        "username": user.username,
        "password": "a long new passphrase 7",
        "otp_token": token,
        "next": "/backoffice/",
    }
    if device is not None:
        data["otp_device"] = device.persistent_id
    return client.post("/backoffice/login/", data)
