"""Back-office screens for the foundation key: "Unlock casework" (and lock), the caseworkers'
copies of the key, adding a caseworker (an unlocked caseworker and the newcomer at one screen)
and removing one. The work on cases themselves is elsewhere (the casework admin).

Sign-in and two-factor stay required: these are admin views (``admin_site.admin_view``).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from zbor.accounts.services import audit
from zbor.admin_base import ZborModelAdmin

from . import keys
from .models import CaseworkerKey, FoundationKey

_PASSPHRASE_WIDGET = forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True})


class UnlockForm(forms.Form):
    passphrase = forms.CharField(label=_lazy("Your casework passphrase"), strip=False, widget=_PASSPHRASE_WIDGET)


class AddCaseworkerForm(forms.Form):
    user = forms.ModelChoiceField(label=_lazy("Caseworker"), queryset=get_user_model().objects.none())
    passphrase = forms.CharField(
        label=_lazy("Their new casework passphrase"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_lazy(
            "The new caseworker types it themselves. At least 12 characters, not their sign-in password: "
            "a few unrelated words are best. Nobody can recover it."
        ),
    )
    passphrase2 = forms.CharField(
        label=_lazy("The same passphrase again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = candidates  # type: ignore[attr-defined]

    def clean(self):
        data = super().clean() or {}
        if data.get("passphrase") != data.get("passphrase2"):
            raise ValidationError(_("The two passphrases differ."))
        if data.get("user") and data.get("passphrase"):
            try:
                keys.check_passphrase(data["passphrase"], data["user"])
            except ValidationError as error:
                self.add_error("passphrase", error)
        return data


def _candidates(foundation_key: FoundationKey):
    """Active staff holding the caseworker role who have no copy of the active key yet."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    role = users.filter(
        groups__permissions__codename="unlock_casework", groups__permissions__content_type__app_label="cases"
    )
    return role.exclude(caseworker_keys__foundation_key=foundation_key).distinct().order_by("username")


@admin.register(CaseworkerKey)
class CaseworkerKeyAdmin(ZborModelAdmin):
    """Who holds a copy of the foundation key. Copies are made only by "Add a caseworker" (or the
    command) and never edited; deleting one removes that caseworker (audited, and locked)."""

    list_display = ("user", "foundation_key", "created_at", "created_by")
    ordering = ("user__username",)
    fields = ("user", "foundation_key", "created_at", "created_by")
    readonly_fields = fields
    change_list_template = "admin/cases/caseworkerkey_list.html"

    def has_module_permission(self, request):
        return keys.is_caseworker(request.user)

    def has_view_permission(self, request, obj=None):
        return keys.is_caseworker(request.user) and request.user.has_perm("cases.view_caseworkerkey")

    def has_add_permission(self, request):
        return False  # through "Add a caseworker"

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return keys.is_caseworker(request.user) and request.user.has_perm("cases.manage_caseworkers")

    def delete_model(self, request, obj):
        keys.remove_caseworker(obj.user, by=request.user)

    def delete_queryset(self, request, queryset):
        for copy in queryset.select_related("user"):
            keys.remove_caseworker(copy.user, by=request.user)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("unlock/", view(self.unlock_view), name="cases_unlock"),
            path("lock/", view(self.lock_view), name="cases_lock"),
            path("add-caseworker/", view(self.add_caseworker_view), name="cases_add_caseworker"),
        ] + super().get_urls()

    def _page(self, request, template, **context):
        return render(
            request, template, {**self.admin_site.each_context(request), "opts": self.model._meta, **context}
        )

    def _require_caseworker(self, request) -> None:
        if not keys.is_caseworker(request.user):
            raise PermissionDenied

    @method_decorator(sensitive_post_parameters("passphrase"))
    @method_decorator(never_cache)
    def unlock_view(self, request):
        self._require_caseworker(request)
        form = UnlockForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                keys.unlock(request, form.cleaned_data["passphrase"])
            except keys.Throttled:
                form.add_error(None, _("Too many wrong passphrases. Wait 15 minutes, then try again."))
            except keys.NoCopy:
                form.add_error(
                    None, _("You hold no copy of the current key. Ask a caseworker to add you (Add a caseworker).")
                )
            except keys.WrongPassphrase:
                form.add_error("passphrase", _("This passphrase does not open your copy of the key."))
            else:
                messages.success(request, _("Casework is unlocked in this browser until you lock it or sign out."))
                target = request.GET.get("next", "")
                response = redirect(target if _is_admin_path(target) else "admin:cases_unlock")
                keys.set_cookie(request, response)
                return response
        session = keys.unlocked_session(request) if keys.is_unlocked(request) else None
        return self._page(
            request,
            "admin/cases/unlock.html",
            form=form,
            unlocked=session,
            has_copy=CaseworkerKey.objects.filter(user=request.user).exists(),
            can_manage=request.user.has_perm("cases.manage_caseworkers"),
            title=_("Unlock casework"),
        )

    @method_decorator(never_cache)
    def lock_view(self, request):
        self._require_caseworker(request)
        if request.method != "POST":
            return redirect("admin:cases_unlock")
        response = redirect("admin:cases_unlock")
        keys.lock(request, response)
        messages.success(request, _("Casework is locked."))
        return response

    @method_decorator(sensitive_post_parameters("passphrase", "passphrase2"))
    @method_decorator(never_cache)
    def add_caseworker_view(self, request):
        self._require_caseworker(request)
        self.require(request, "cases.manage_caseworkers")
        key = keys.private_key(request)
        if key is None:
            messages.info(request, _("Unlock casework first: the new caseworker's copy is made from yours."))
            return redirect(f"{_unlock_url()}?next={request.path}")
        foundation_key = keys.unlocked_session(request).foundation_key  # type: ignore[union-attr]
        form = AddCaseworkerForm(request.POST or None, candidates=_candidates(foundation_key))
        if request.method == "POST" and form.is_valid():
            user = form.cleaned_data["user"]
            keys.give_copy(user, key, foundation_key, form.cleaned_data["passphrase"], by=request.user)
            audit(request.user, "cases.caseworker.add", user)
            messages.success(request, _("%(user)s can now unlock casework with their passphrase.") % {"user": user})
            return redirect("admin:cases_caseworkerkey_changelist")
        return self._page(
            request,
            "admin/zbor_form.html",
            form=form,
            title=_("Add a caseworker"),
            intro=_(
                "Give a person with the caseworker role their own copy of the key. Sit together: they type "
                "their passphrase here themselves, twice. Their copy opens only with it."
            ),
            submit=_("Add"),
        )


def _unlock_url() -> str:
    from django.urls import reverse

    return reverse("admin:cases_unlock")


def _is_admin_path(target: str) -> bool:
    """Only a path inside the back office is followed after unlocking (no open redirect)."""
    return keys.cookie_path() != "/" and target.startswith(keys.cookie_path()) and "//" not in target
