"""The editors' screens: campaigns with their needs and updates, beneficiaries, notes.

Importing the package registers every screen with the admin site."""

from . import campaign, people, staging

__all__ = ["campaign", "people", "staging"]
