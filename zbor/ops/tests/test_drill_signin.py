"""The restore drill's sign-in: production's cookie and CSRF settings, over plain
http://localhost:8000 through an SSH tunnel (docs/deploy.md, "Restore drill"). Browsers keep
Secure cookies for http://localhost (a secure context); Django's CSRF check compares the Origin
with http://<Host> on a plain request, so only SECURE_SSL_REDIRECT=false and
ALLOWED_HOSTS=localhost are needed."""

import pytest
from django.test import Client

from tests import factories

LOGIN = "/backoffice/login/"
TUNNEL = {"HTTP_HOST": "localhost:8000"}


@pytest.fixture
def drill_settings(settings):
    settings.ALLOWED_HOSTS = ["localhost"]
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.CSRF_COOKIE_HTTPONLY = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


def _form(client: Client) -> str:
    response = client.get(LOGIN, **TUNNEL)
    assert response.status_code == 200
    assert response.cookies["csrftoken"]["secure"] is True
    return client.cookies["csrftoken"].value


@pytest.mark.django_db
def test_staff_sign_in_over_plain_http_to_localhost(drill_settings):
    factories.role_user("finance", "drill")
    client = Client(enforce_csrf_checks=True)
    token = _form(client)
    data = {"username": "drill", "password": "correct horse battery", "next": "/backoffice/"}
    response = client.post(
        LOGIN, {**data, "csrfmiddlewaretoken": token}, HTTP_ORIGIN="http://localhost:8000", **TUNNEL
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["secure"] is True
    assert client.get("/backoffice/", **TUNNEL).status_code == 200


@pytest.mark.django_db
def test_a_form_posted_from_another_origin_is_still_refused(drill_settings):
    factories.role_user("finance", "drill2")
    client = Client(enforce_csrf_checks=True)
    token = _form(client)
    data = {"username": "drill2", "password": "correct horse battery", "csrfmiddlewaretoken": token}
    response = client.post(LOGIN, data, HTTP_ORIGIN="http://evil.example", **TUNNEL)
    assert response.status_code == 403
