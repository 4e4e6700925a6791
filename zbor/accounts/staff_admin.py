"""Back-office screens for four-eyes on people: ask for a change of roles or a password reset,
and decide another admin's request. The rules live in zbor/accounts/staff_changes.py."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zbor.admin_base import ZborModelAdmin

from . import staff_changes
from .models import StaffChangeRequest
from .roles import ROLES


class RolesRequestForm(forms.Form):
    roles = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Roles"), queryset=Group.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    is_staff = forms.BooleanField(label=gettext_lazy("May use the back office"), required=False)
    is_superuser = forms.BooleanField(label=gettext_lazy("Superuser (break-glass)"), required=False)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)

    def __init__(self, *args, allow_superuser: bool, **kwargs):
        super().__init__(*args, **kwargs)
        roles = self.fields["roles"]
        assert isinstance(roles, forms.ModelMultipleChoiceField)
        roles.queryset = Group.objects.filter(name__in=ROLES).order_by("name")
        if not allow_superuser:
            del self.fields["is_superuser"]


class PasswordResetRequestForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        widget=forms.RadioSelect,
        choices=[("approve", gettext_lazy("Approve and apply")), ("reject", gettext_lazy("Reject"))],
    )


@admin.register(StaffChangeRequest)
class StaffChangeRequestAdmin(ZborModelAdmin):
    """Requests are made from a person's page and decided here; never edited or deleted."""

    list_display = ["requested_at", "kind", "target", "requested_by", "state", "decided_by", "decided_at"]
    list_filter = ["state", "kind"]
    readonly_fields = fields = (
        "kind",
        "target",
        "requested_by",
        "requested_at",
        "change_summary",
        "reason",
        "state",
        "decided_by",
        "decided_at",
        "decision_link",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("change"))
    def change_summary(self, obj):
        if obj.kind == StaffChangeRequest.Kind.PASSWORD:
            return _("The password stops working and every session ends; a new one is set through enrolment.")
        parts = [
            _("roles: %(before)s → %(after)s")
            % {"before": ", ".join(obj.roles_before) or "—", "after": ", ".join(obj.roles_after) or "—"}
        ]
        if obj.is_staff_before != obj.is_staff_after:
            parts.append(
                _("back office: %(before)s → %(after)s")
                % {"before": _yes_no(obj.is_staff_before), "after": _yes_no(obj.is_staff_after)}
            )
        if obj.is_superuser_before != obj.is_superuser_after:
            parts.append(
                _("superuser: %(before)s → %(after)s")
                % {"before": _yes_no(obj.is_superuser_before), "after": _yes_no(obj.is_superuser_after)}
            )
        return "; ".join(parts)

    @admin.display(description=gettext_lazy("decision"))
    def decision_link(self, obj):
        if obj is None or obj.state != StaffChangeRequest.State.PENDING:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:accounts_staffchangerequest_decide", args=[obj.pk]),
            _("Approve or reject"),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("ask/<int:user_id>/roles/", view(self.request_roles_view), name="accounts_staffchangerequest_roles"),
            path(
                "ask/<int:user_id>/password/",
                view(self.request_password_view),
                name="accounts_staffchangerequest_password",
            ),
            path("<int:pk>/decide/", view(self.decide_view), name="accounts_staffchangerequest_decide"),
        ] + super().get_urls()

    # Each view checks the permission before looking anything up: without it, every id is the same 403.

    def _target(self, request, user_id: int):
        if not request.user.has_perm(staff_changes.REQUEST):
            raise PermissionDenied
        target = get_user_model().objects.filter(pk=user_id).first()
        if target is None:
            raise Http404
        return target

    def _render(self, request, title: str, form, *, intro: str = "", submit: str = ""):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "intro": intro,
            "submit": submit or _("Ask a second admin"),
            "note": ""
            if submit
            else _("Nothing changes until another admin approves. Nobody approves their own request."),
        }
        response = TemplateResponse(request, "admin/zbor_form.html", context)
        if request.method == "POST":
            response.status_code = 400  # a submission that did not go through: the form says why
        return response

    def _done(self, request, change: StaffChangeRequest, message: str):
        messages.success(request, message)
        return HttpResponseRedirect(reverse("admin:accounts_staffchangerequest_change", args=[change.pk]))

    def request_roles_view(self, request, user_id: int):
        target = self._target(request, user_id)
        initial = {
            "roles": Group.objects.filter(name__in=staff_changes.current_roles(target)),
            "is_staff": target.is_staff,
            "is_superuser": target.is_superuser,
        }
        form = RolesRequestForm(request.POST or None, initial=initial, allow_superuser=request.user.is_superuser)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                change = staff_changes.request_roles(
                    target,
                    by=request.user,
                    roles=[g.name for g in data["roles"]],
                    is_staff=data["is_staff"],
                    is_superuser=data.get("is_superuser", target.is_superuser),
                    reason=data["reason"],
                )
            except staff_changes.StaffChangeError as exc:
                form.add_error(None, str(exc))
            else:
                return self._done(request, change, _("Asked. Another admin must approve it before anything changes."))
        return self._render(request, _("Ask to change the roles of %(name)s") % {"name": target.get_username()}, form)

    def request_password_view(self, request, user_id: int):
        target = self._target(request, user_id)
        form = PasswordResetRequestForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                change = staff_changes.request_password_reset(
                    target, by=request.user, reason=form.cleaned_data["reason"]
                )
            except staff_changes.StaffChangeError as exc:
                form.add_error(None, str(exc))
            else:
                return self._done(request, change, _("Asked. Another admin must approve it before anything changes."))
        return self._render(
            request,
            _("Ask to reset the password of %(name)s") % {"name": target.get_username()},
            form,
            intro=_(
                "Once approved, the password stops working and every session ends; they set a new one through enrolment."
            ),
        )

    def decide_view(self, request, pk: int):
        if not request.user.has_perm(staff_changes.DECIDE):
            raise PermissionDenied
        change = StaffChangeRequest.objects.select_related("target", "requested_by").filter(pk=pk).first()
        if change is None:
            raise Http404
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            decision = form.cleaned_data["decision"]
            try:
                (staff_changes.approve if decision == "approve" else staff_changes.reject)(change, by=request.user)
            except staff_changes.StaffChangeError as exc:
                form.add_error(None, str(exc))
            else:
                return self._done(
                    request, change, _("Approved and applied.") if decision == "approve" else _("Rejected.")
                )
        if change.state != StaffChangeRequest.State.PENDING and request.method != "POST":
            # Decided already: the request's own page says how and by whom.
            return HttpResponseRedirect(reverse("admin:accounts_staffchangerequest_change", args=[change.pk]))
        intro = _("%(who)s asks, for %(whom)s: %(change)s. Reason: %(reason)s") % {
            "who": change.requested_by.get_username(),
            "whom": change.target.get_username(),
            "change": self.change_summary(change),
            "reason": change.reason,
        }
        return self._render(
            request,
            _("Decide: %(change)s") % {"change": change.get_kind_display()},
            form,
            intro=intro,
            submit=_("Decide"),
        )


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")
