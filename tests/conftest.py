import os

import pytest
from django.core.management import call_command

DEMO = "from-prison-to-family"


@pytest.fixture
def demo(db):
    """The demo data, as `make run` loads it; returns the reference campaign."""
    from zbor.campaigns.models import Campaign

    with open(os.devnull, "w") as quiet:
        call_command("load_demo", stdout=quiet)
    return Campaign.objects.get(slug=DEMO)
