"""Host disk use in percent, for the "host disk above 90 %" rule.

The monitoring collector stores `docker system df` sizes but no capacity. For the server's
own engine (a unix:// host) the capacity is the file system holding the Docker root
directory, read with statvfs; remote hosts report no value (the rule sees no data).
"""

from __future__ import annotations

import os
from datetime import datetime

from django.conf import settings
from django.utils import timezone


def disk_percent(host) -> tuple[datetime, float] | None:
    if not host.url.startswith("unix://"):
        return None
    root = getattr(settings, "ALERTS_LOCAL_DOCKER_ROOT", "/var/lib/docker")
    try:
        st = os.statvfs(root)
    except OSError:
        return None
    if not st.f_blocks:
        return None
    used = (st.f_blocks - st.f_bavail) / st.f_blocks * 100
    return timezone.now(), round(used, 2)
