"""Zbor: fundraising for foundations that help people at risk."""
