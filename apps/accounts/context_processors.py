from .models import Team


def teams(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    team = getattr(request, "team", None)
    return {
        "user_teams": Team.objects.for_user(user).order_by("name"),
        "current_team": team if team else None,
        "current_role": team.role_of(user) if team else None,
    }
