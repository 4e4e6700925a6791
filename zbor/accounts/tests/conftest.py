import pytest


@pytest.fixture
def no_otp_backoff(settings):
    """django-otp's back-off after a wrong code, off: the enrolment tests type wrong codes on
    purpose and would otherwise wait it out."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
