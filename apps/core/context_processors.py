from .degraded import degraded_components


def degraded(request):
    return {"degraded": degraded_components()}
