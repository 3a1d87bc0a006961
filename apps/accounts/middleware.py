from django.utils.functional import SimpleLazyObject

from .models import Team

SESSION_KEY = "current_team_id"


def _current_team(request):
    user = request.user
    if not user.is_authenticated:
        return None
    teams = Team.objects.for_user(user)
    team_id = request.session.get(SESSION_KEY)
    team = teams.filter(pk=team_id).first() if team_id else None
    return team or teams.order_by("name").first()


class CurrentTeamMiddleware:
    """`request.team`: the team the pages follow (the team switcher stores it in the session)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.team = SimpleLazyObject(lambda: _current_team(request))
        return self.get_response(request)
