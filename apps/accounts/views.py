from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from apps.core.api import user_may
from apps.core.htmx import render_page
from apps.core.registries import panels
from apps.core.roles import Action, Role

from . import emails, ratelimit, services
from .forms import (
    AddMemberForm,
    InvitationForm,
    InvitationSignupForm,
    RateLimitedAuthenticationForm,
    RoleForm,
    TeamCreateForm,
    TeamSettingsForm,
    TokenCreateForm,
)
from .middleware import SESSION_KEY
from .models import ApiToken, Invitation, Membership, Team

# --- log in and out, passwords --------------------------------------------------------


class LoginView(auth_views.LoginView):
    form_class = RateLimitedAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django 5): a link or an image tag cannot log anybody out."""


class PasswordResetView(auth_views.PasswordResetView):
    """Password reset by e-mail, rate limited like logins (per address and per client), so
    the form cannot be used to flood someone's inbox. A limited request still lands on the
    "sent" page: the answer never tells whether an address has an account."""

    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        key = "reset:" + form.cleaned_data["email"]
        addr = self.request.META.get("REMOTE_ADDR", "")
        if ratelimit.is_limited(key, addr):
            return redirect(self.success_url)
        ratelimit.record_failure(key, addr)  # every request counts towards the limit
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


# --- profile and API tokens ---------------------------------------------------------------


def _profile_page(request, token_form=None):
    tokens = ApiToken.objects.filter(user=request.user)
    context = {"nav": "profile", "tokens": tokens, "token_form": token_form or TokenCreateForm()}
    return render_page(request, "accounts/profile.html", context, partial="tokens")


@login_required
def profile(request):
    return _profile_page(request)


@login_required
@require_POST
def token_create(request):
    form = TokenCreateForm(request.POST)
    if form.is_valid():
        try:
            token, raw = services.issue_token(request.user, form.cleaned_data["name"], form.expires_at())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            # The raw key goes into this response only: never a redirect through the session
            # (which the database stores) and never cached.
            response = render(request, "accounts/token_created.html", {"nav": "profile", "token": token, "raw_key": raw})
            patch_cache_control(response, no_store=True, private=True)
            return response
    return _profile_page(request, token_form=form)


@login_required
@require_POST
def token_revoke(request, pk: int):
    token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
    if token.revoked_at is None:
        token.revoke()
    messages.success(request, f"Token “{token.name}” revoked.")
    if request.htmx:
        return _profile_page(request)
    return redirect("accounts:profile")


# --- teams --------------------------------------------------------------------------------


def _current_team(request) -> Team:
    team = request.team
    if not team:
        raise PermissionDenied("You are not in a team.")
    return Team.objects.get(pk=team.pk)  # a plain instance, not the middleware's lazy object


def _settings_page(request, team: Team, **overrides):
    may_manage = user_may(request.user, team.pk, Action.MANAGE)
    invitations = Invitation.objects.for_user(request.user, Action.MANAGE).filter(team=team, accepted_at__isnull=True)
    context = {
        "nav": "team",
        "team": team,
        "may_manage": may_manage,
        "is_superuser": request.user.is_superuser,
        "form": TeamSettingsForm(instance=team),
        "add_form": AddMemberForm(),
        "invite_form": InvitationForm(),
        "memberships": Membership.objects.for_user(request.user).filter(team=team).select_related("user").order_by("user__username"),
        "invitations": invitations.select_related("invited_by"),
        "roles": Role.choices,
        "sections": _sections(request, team),
        **overrides,
    }
    return render_page(request, "accounts/team_settings.html", context, partial="members")


def _sections(request, team: Team) -> list[tuple]:
    """Settings sections later apps registered (core.registries.panels, page "team_settings");
    a section whose render returns nothing is hidden."""
    rendered = ((panel, panel.render(request, team)) for panel in panels.for_page("team_settings"))
    return [(panel, html) for panel, html in rendered if html]


def _members_done(request, team: Team, text: str):
    """After a member/invitation change: the members partial for htmx, else a redirect."""
    if request.htmx:
        return _settings_page(request, team, notice=text)
    messages.success(request, text)
    return redirect("accounts:team_settings")


def _form_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
def team_settings(request):
    team = _current_team(request)
    if request.method != "POST":
        return _settings_page(request, team)
    if not user_may(request.user, team.pk, Action.MANAGE):
        raise PermissionDenied("Only team admins change team settings.")
    form = TeamSettingsForm(request.POST, instance=team)
    if form.is_valid():
        services.save_team_settings(form.save(commit=False))
        messages.success(request, "Team settings saved.")
        return redirect("accounts:team_settings")
    return _settings_page(request, Team.objects.get(pk=team.pk), form=form)


@login_required
@require_POST
def member_add(request):
    team = _current_team(request)
    services.require_manage(request.user, team)  # 403 before looking at the input
    form = AddMemberForm(request.POST)
    if form.is_valid():
        try:
            membership = services.add_member(request.user, team, form.cleaned_data["username"], form.cleaned_data["role"])
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            return _members_done(request, team, f"{membership.user} added as {membership.get_role_display().lower()}.")
    return _settings_page(request, team, add_form=form)


def _team_membership(request, team: Team, pk: int) -> Membership:
    return get_object_or_404(Membership.objects.for_user(request.user).filter(team=team).select_related("user", "team"), pk=pk)


@login_required
@require_POST
def member_role(request, pk: int):
    team = _current_team(request)
    membership = _team_membership(request, team, pk)
    services.require_manage(request.user, team)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.change_role(request.user, membership, form.cleaned_data["role"])
        except ValidationError as exc:
            return _settings_page(request, team, member_error=" ".join(exc.messages))
        return _members_done(request, team, f"{membership.user} is now {membership.get_role_display().lower()}.")
    return _settings_page(request, team, member_error="Choose a valid role.")


@login_required
@require_POST
def member_remove(request, pk: int):
    team = _current_team(request)
    membership = _team_membership(request, team, pk)
    try:
        services.remove_member(request.user, membership)
    except ValidationError as exc:
        return _settings_page(request, team, member_error=" ".join(exc.messages))
    return _members_done(request, team, f"{membership.user} removed from the team.")


@login_required
@require_POST
def invitation_create(request):
    team = _current_team(request)
    services.require_manage(request.user, team)
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            invitation, raw = services.create_invitation(request.user, team, form.cleaned_data["email"], form.cleaned_data["role"])
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            emails.send_invitation(request, invitation, raw)
            return _members_done(request, team, f"Invitation sent to {invitation.email}.")
    return _settings_page(request, team, invite_form=form)


@login_required
@require_POST
def invitation_revoke(request, pk: int):
    team = _current_team(request)
    invitation = get_object_or_404(Invitation.objects.for_user(request.user).filter(team=team), pk=pk)
    services.revoke_invitation(request.user, invitation)
    return _members_done(request, team, f"Invitation for {invitation.email} revoked.")


@login_required
def team_create(request):
    if not request.user.is_superuser:
        raise PermissionDenied("Only installation superusers create teams.")
    form = TeamCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        team = services.create_team(request.user, form.cleaned_data["name"], form.cleaned_data["time_zone"])
        request.session[SESSION_KEY] = team.pk
        messages.success(request, f"Team {team.name} created; you are its admin.")
        return redirect("accounts:team_settings")
    return render(request, "accounts/team_create.html", {"nav": "team", "form": form})


@login_required
@require_POST
def switch_team(request):
    raw = request.POST.get("team", "")
    team = Team.objects.for_user(request.user).filter(pk=raw).first() if raw.isdigit() else None
    if team is None:
        messages.error(request, "No such team.")
    else:
        request.session[SESSION_KEY] = team.pk
    nxt = request.POST.get("next") or request.headers.get("Referer") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = "/"
    return redirect(nxt)


# --- accepting an invitation -------------------------------------------------------------


def accept_invitation(request, token: str):
    try:
        invitation = services.invitation_for_token(token)
    except services.InvitationError as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=exc.status)
    signup_form = None
    if request.method == "POST":
        try:
            if request.user.is_authenticated:
                services.accept_invitation(invitation, request.user)
                user = request.user
            else:
                signup_form = InvitationSignupForm(request.POST)
                user = _signup_and_accept(signup_form, invitation)
        except services.InvitationError as exc:
            return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=exc.status)
        if user is not None:
            if not request.user.is_authenticated:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            request.session[SESSION_KEY] = invitation.team_id
            messages.success(request, f"Welcome to {invitation.team.name}.")
            return redirect("web:dashboard")
    login_url = f"{reverse('accounts:login')}?{urlencode({'next': request.path})}"
    context = {"invitation": invitation, "signup_form": signup_form or InvitationSignupForm(), "login_url": login_url}
    return render(request, "accounts/invitation_accept.html", context)


def _signup_and_accept(form: InvitationSignupForm, invitation: Invitation):
    """Create the account and join in one transaction: no account without the membership."""
    if not form.is_valid():
        return None
    with transaction.atomic():
        user = form.save(commit=False)
        user.email = invitation.email
        user.save()
        services.accept_invitation(invitation, user)
    return user
