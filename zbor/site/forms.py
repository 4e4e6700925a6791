from django import forms
from django.utils.translation import gettext_lazy as _

from zbor.campaigns.models import Category, Status

SORTS = [
    ("newest", _("Newest")),
    ("closest", _("Closest to goal")),
    ("most_needed", _("Most still needed")),
]


class CampaignFilterForm(forms.Form):
    """The list page's filters. Invalid values are ignored, never an error page."""

    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All categories"))] + list(Category.choices)
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            ("", _("Open and finished")),
            (Status.PUBLISHED, _("Open")),
            (Status.FUNDED, _("Funded")),
            (Status.CLOSED, _("Closed")),
        ],
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORTS)

    def values(self) -> dict[str, str]:
        self.is_valid()  # invalid fields are left out of cleaned_data, so they count as unset
        return {name: self.cleaned_data.get(name) or "" for name in self.fields}


def error_summary(form) -> list[tuple[str, str]]:
    """(the field's id, the message) for every error of a sent form, in the form's order, for
    the summary at its top: without JavaScript the page opens there, and each links to its field.
    A form-wide error, or one of a hidden field, links to nothing ("")."""
    summary = [("", str(error)) for error in form.non_field_errors()]
    for bound in form:
        if not bound.errors:
            continue
        if bound.is_hidden:
            anchor = ""
        elif isinstance(bound.field.widget, forms.RadioSelect):
            anchor = f"{bound.auto_id}_0"  # the first choice: a group of radios has no one id
        else:
            anchor = bound.id_for_label
        summary.extend((anchor, str(error)) for error in bound.errors)
    return summary
