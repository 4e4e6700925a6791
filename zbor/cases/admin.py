"""The casework screens in the admin: the caseworkers' queue and case pages (case_admin.py)."""

from .case_admin import CaseAdmin

__all__ = ["CaseAdmin"]
