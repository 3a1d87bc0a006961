"""Live channels: the team group (kind and ids only) and per-operation streams."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from apps.core.broadcast import object_group, team_group
from apps.core.roles import Action


class PushConsumer(AsyncJsonWebsocketConsumer):
    """Joins the groups `groups_for()` allows; refuses before accept when none."""

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.joined = await database_sync_to_async(self.groups_for)(user)
        if not self.joined:
            await self.close(code=4404)
            return
        for group in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        for group in getattr(self, "joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def push(self, message):
        await self.send_json(message["payload"])

    def groups_for(self, user) -> list[str]:
        raise NotImplementedError


class TeamEventsConsumer(PushConsumer):
    """/ws/events/?team=ID: the events of one team the user belongs to (default: all)."""

    def groups_for(self, user):
        from apps.accounts.models import Team

        teams = Team.objects.for_user(user, Action.VIEW)
        query = dict(pair.split("=", 1) for pair in self.scope.get("query_string", b"").decode().split("&") if "=" in pair)
        if "team" in query:
            teams = teams.filter(pk=query["team"]) if query["team"].isdigit() else teams.none()
        return [team_group(pk) for pk in teams.values_list("pk", flat=True)]


class OperationConsumer(PushConsumer):
    """/ws/operations/<id>/: log lines, progress and status of one operation."""

    def groups_for(self, user):
        from .models import Operation

        pk = self.scope["url_route"]["kwargs"]["pk"]
        exists = Operation.objects.for_user(user, Action.VIEW).filter(pk=pk).exists()
        return [object_group("operation", pk)] if exists else []
