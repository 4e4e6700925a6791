"""The applicant's forms: the application (the common core, zbor/cases/core.py, and the
programme's own questions), the status page's sign-in with the case code and phrase, and the
answer to the foundation.

Every limit is checked here, with a translated message beside the field: the length of each
answer, the size and kind of each file (``private_files.clean_upload`` sniffs it and strips its
metadata while the form is cleaned, so a file that cannot be cleaned is a form error, never a
stored file).
"""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zbor import private_files
from zbor.cases import core
from zbor.cases.applying import Upload
from zbor.cases.models import Programme, Question, QuestionKind
from zbor.forms import AmountField
from zbor.money import InvalidAmount, parse_amount

#: What a file input offers to choose (the server sniffs the content whatever it is called).
ACCEPT = "application/pdf,image/jpeg,image/png,image/webp,image/gif,.pdf,.jpg,.jpeg,.png,.webp,.gif"
#: A choice question with more options than this is a drop-down instead of radio buttons.
RADIO_MAX = 6


def clean_file(upload, *, question: int | None = None) -> Upload:
    """An uploaded file sniffed, cleaned of metadata and size-checked, or ValidationError."""
    if upload.size > settings.ZBOR_CASE_FILE_MAX_BYTES:
        raise ValidationError(
            _("The file is too large: at most %(mb)s MB.") % {"mb": settings.ZBOR_CASE_FILE_MAX_BYTES // (1024 * 1024)}
        )
    clean = private_files.clean_upload(upload)
    return Upload(data=clean.data, content_type=clean.content_type, name=str(upload.name or ""), question=question)


def error_list(form: forms.Form) -> list[tuple[str, str, str]]:
    """(the field's id, its label, the message) for each error of a sent form, in the form's
    order, for the summary at its top (site/_apply_errors.html): "This field is required" five
    times says nothing, so each names its question. Form-wide errors have no id and no label."""
    summary = [("", "", str(error)) for error in form.non_field_errors()]
    for bound in form:
        if not bound.errors:
            continue
        if bound.is_hidden:
            summary.extend(("", "", str(error)) for error in bound.errors)
            continue
        radios = isinstance(bound.field.widget, forms.RadioSelect)
        anchor = f"{bound.auto_id}_0" if radios else bound.id_for_label
        summary.extend((anchor, str(bound.label), str(error)) for error in bound.errors)
    return summary


class _FileInput(forms.FileInput):
    allow_multiple_selected = True


class DocumentsField(forms.FileField):
    """Several files from one input (Django's documented pattern), each cleaned by ``clean_file``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", _FileInput(attrs={"multiple": True, "accept": ACCEPT}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if self.required and not files:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(files) > settings.DATA_UPLOAD_MAX_NUMBER_FILES:
            raise ValidationError(
                _("Send at most %(count)s files at once.") % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
            )
        return [clean_file(super(DocumentsField, self).clean(f, initial)) for f in files]


class TotalSizeMixin:
    """A request larger than Django keeps in memory arrives without its files (they are never
    written to disk: settings.FILE_UPLOAD_HANDLERS); the form says so instead of "required"."""

    too_large = False

    def add_total_size_error(self) -> None:
        limit = settings.FILE_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        self.add_error(  # type: ignore[attr-defined]
            None,
            _(
                "Everything sent at once can be at most %(mb)s MB, so the files were not received. "
                "Send fewer or smaller files: you can add more later on the status page."
            )
            % {"mb": limit},
        )


class ApplicationForm(TotalSizeMixin, forms.Form):
    """The common core, then the programme's questions (``q<pk>``), then the contact."""

    challenge = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(
        self, data=None, files=None, *, programme: Programme, questions: list[Question], too_large=False, **kwargs
    ):
        super().__init__(data, files, **kwargs)
        self.programme, self.questions, self.too_large = programme, questions, too_large
        for question in core.CORE:
            self.fields[question.key] = _core_field(question, programme)
        for question in questions:
            self.fields[f"q{question.pk}"] = _question_field(question, programme)

    def core_fields(self, *keys: str) -> list[forms.BoundField]:
        return [self[key] for key in keys]

    def question_fields(self) -> list[forms.BoundField]:
        return [self[f"q{q.pk}"] for q in self.questions]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.too_large:
            self.add_total_size_error()
        typed = (self.data.get("amount") or "").strip()
        currency = data.get("currency") or self.programme.currency
        if typed and "amount" not in self.errors:
            try:
                data["amount"] = parse_amount(typed[: core.SHORT_MAX], currency)
            except InvalidAmount as exc:
                self.add_error("amount", str(exc))
        else:
            data["amount"] = None
        channel, contact = data.get("contact_channel", ""), data.get("contact", "")
        if channel and not contact:
            self.add_error("contact", _("Write your address or username, or choose “Only through the status page”."))
        elif contact and not channel:
            self.add_error("contact_channel", _("Choose where this address or username is."))
        elif channel == "email" and contact:
            try:
                forms.EmailField().clean(contact)
            except ValidationError:
                self.add_error("contact", _("Enter a valid email address."))
        return data

    def answers(self) -> dict[str, Any]:
        """The sealed document's content (zbor/cases/core.py says its shape)."""
        data = self.cleaned_data
        core_answers = {q.key: data.get(q.key) or ("" if q.kind != core.AMOUNT else None) for q in core.CORE}
        core_answers["currency"] = data.get("currency") or self.programme.currency
        answered = []
        for question in self.questions:
            value = data.get(f"q{question.pk}")
            if isinstance(value, Upload):
                value = value.name
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            answered.append(
                {"id": question.pk, "kind": question.kind, "label": str(question), "answer": value if value else ""}
            )
        return {"core": core_answers, "questions": answered}

    def uploads(self) -> list[Upload]:
        return [v for v in self.cleaned_data.values() if isinstance(v, Upload)]


def _core_field(question: core.CoreQuestion, programme: Programme) -> forms.Field:
    common: dict[str, Any] = {"label": question.label, "help_text": question.help_text, "required": question.required}
    if question.kind == core.CURRENCY:
        return forms.ChoiceField(
            choices=[(c, c) for c in core.currencies_for(programme.currency)], initial=programme.currency, **common
        )
    if question.kind == core.CHANNEL:
        return forms.ChoiceField(choices=core.CHANNELS, widget=forms.RadioSelect, initial="", **common)
    if question.kind == core.AMOUNT:
        typed = forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "maxlength": "24"})
        return forms.CharField(max_length=24, widget=typed, **common)
    widget: forms.Widget = (
        forms.Textarea(attrs={"rows": 7, "maxlength": str(question.max_length)})
        if question.kind == core.LONG_TEXT
        else forms.TextInput(attrs={"autocomplete": "off"})
    )
    return forms.CharField(max_length=question.max_length, widget=widget, **common)


class _QuestionFile(forms.FileField):
    def __init__(self, question: Question, **kwargs):
        self.question_id = question.pk
        super().__init__(widget=forms.FileInput(attrs={"accept": ACCEPT}), **kwargs)

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        return clean_file(upload, question=self.question_id) if upload else None


def _question_field(question: Question, programme: Programme) -> forms.Field:
    help_text = question.safe_translation_getter("help_text", any_language=True) or ""
    common: dict[str, Any] = {"label": str(question), "help_text": help_text, "required": question.required}
    match question.kind:
        case QuestionKind.LONG_TEXT:
            return forms.CharField(
                max_length=core.LONG_MAX,
                widget=forms.Textarea(attrs={"rows": 5, "maxlength": str(core.LONG_MAX)}),
                **common,
            )
        case QuestionKind.CHOICE:
            lines = question.safe_translation_getter("choices", any_language=True) or ""
            options = [line.strip() for line in lines.splitlines() if line.strip()]
            widget = forms.RadioSelect if len(options) <= RADIO_MAX else forms.Select
            empty = [] if widget is forms.RadioSelect else [("", "—")]
            return forms.ChoiceField(choices=empty + [(o, o) for o in options], widget=widget, **common)
        case QuestionKind.DATE:
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
        case QuestionKind.AMOUNT:
            return AmountField(currency=programme.currency, max_minor=programme.max_amount, **common)
        case QuestionKind.FILE:
            return _QuestionFile(question, **common)
    return forms.CharField(max_length=core.SHORT_MAX, **common)


class StatusSignInForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Case code"),
        max_length=32,
        help_text=gettext_lazy("It looks like ZC-7K4Q-9MX2."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )
    phrase = forms.CharField(
        label=gettext_lazy("Secret phrase"),
        max_length=200,
        help_text=gettext_lazy("The five words, separated by spaces. Capital letters do not matter."),
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )


class AnswerForm(TotalSizeMixin, forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Your answer"),
        required=False,
        max_length=core.LONG_MAX,
        widget=forms.Textarea(attrs={"rows": 6, "maxlength": str(core.LONG_MAX)}),
    )
    documents = DocumentsField(
        label=gettext_lazy("Add documents"),
        required=False,
        help_text=gettext_lazy("PDF or pictures, up to 5 at once."),
    )

    def __init__(self, *args, too_large: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = too_large

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.too_large:
            self.add_total_size_error()
        elif not self.errors and not data.get("text", "").strip() and not data.get("documents"):
            raise ValidationError(_("Write an answer or choose a document to send."))
        return data
