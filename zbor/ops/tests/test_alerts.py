"""`zbor failure_mail UNIT`: the admin hears that a unit failed, and from which unit."""

import pytest
from django.core import mail
from django.core.management import CommandError, call_command


def test_the_admins_get_the_unit_name_and_where_to_look(settings):
    settings.ZBOR_ALERT_EMAILS = ["admin@example.org"]
    call_command("failure_mail", "zbor-backup.service")
    (message,) = mail.outbox
    assert message.to == ["admin@example.org"]
    assert message.subject.startswith("[Zbor] zbor-backup.service failed on ")
    assert "journalctl --unit=zbor-backup.service" in message.body
    assert "Last lines of its journal:" in message.body


def test_without_an_address_or_with_a_strange_unit_name_nothing_is_sent(settings):
    settings.ZBOR_ALERT_EMAILS = []
    with pytest.raises(CommandError, match="ZBOR_ALERT_EMAILS is empty"):
        call_command("failure_mail", "zbor-backup.service")
    settings.ZBOR_ALERT_EMAILS = ["admin@example.org"]
    with pytest.raises(CommandError, match="not a systemd unit name"):
        call_command("failure_mail", "zbor backup; rm -rf")
    assert mail.outbox == []
