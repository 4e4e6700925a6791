"""Compile locale/*/LC_MESSAGES/django.po to .mo with Babel (no GNU gettext needed).

Refuses a catalogue with errors (a broken placeholder, a bad plural count) instead of
installing a translation that would crash a page.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile the translation catalogues in LOCALE_PATHS with Babel."

    def handle(self, *args, **options):
        compiled = 0
        for root in settings.LOCALE_PATHS:
            for po_path in sorted(Path(root).glob("*/LC_MESSAGES/*.po")):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                with po_path.open("rb") as handle:
                    catalog = read_po(handle, locale=po_path.parent.parent.name)
                problems = [
                    f"{po_path}:{message.lineno}: {error}"
                    for message, errors in catalog.check()
                    if not message.fuzzy  # fuzzy entries are not compiled
                    for error in errors
                ]
                if problems:
                    raise CommandError("Translation errors:\n" + "\n".join(problems))
                with mo_path.open("wb") as handle:
                    write_mo(handle, catalog, use_fuzzy=False)
                compiled += 1
        self.stdout.write(f"Compiled {compiled} translation catalogue(s).")
