from . import actor as actor_ctx


class RequestIdMiddleware:
    """Give every request an id (honouring a sane incoming X-Request-ID) for audit and logs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if incoming.isalnum() and len(incoming) <= 64 else actor_ctx.new_request_id()
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id
        return response


def _via(request) -> str:
    path = request.path_info
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "ui"


class ActorMiddleware:
    """Set the actor context for the request. API token auth happens later (in DRF), so the
    API base view refreshes the actor once DRF has authenticated the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = actor_ctx.set_actor(
            actor_ctx.actor_for_user(
                request.user, _via(request), getattr(request, "request_id", ""), request.META.get("REMOTE_ADDR", "")
            )
        )
        try:
            return self.get_response(request)
        finally:
            actor_ctx.reset_actor(token)
