from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.core.roles import Action

from .forms import RateLimitedAuthenticationForm, TeamSettingsForm
from .middleware import SESSION_KEY
from .models import Team


class LoginView(auth_views.LoginView):
    form_class = RateLimitedAuthenticationForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
@require_POST
def switch_team(request):
    team = Team.objects.for_user(request.user).filter(pk=request.POST.get("team", "")).first() if request.POST.get("team", "").isdigit() else None
    if team is None:
        messages.error(request, "No such team.")
    else:
        request.session[SESSION_KEY] = team.pk
    nxt = request.POST.get("next") or request.headers.get("Referer") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = "/"
    return redirect(nxt)


@login_required
def profile(request):
    return render(request, "accounts/profile.html", {"nav": "profile"})


@login_required
def team_settings(request):
    team = request.team
    if not team:
        raise PermissionDenied("You are not in a team.")
    may_manage = Team.objects.for_user(request.user, Action.MANAGE).filter(pk=team.pk).exists()
    form = TeamSettingsForm(request.POST or None, instance=team)
    if request.method == "POST":
        if not may_manage:
            raise PermissionDenied("Only team admins change team settings.")
        if form.is_valid():
            form.save()
            messages.success(request, "Team settings saved.")
            return redirect("accounts:team_settings")
    return render(request, "accounts/team_settings.html", {"nav": "team", "form": form, "may_manage": may_manage, "team": team})
