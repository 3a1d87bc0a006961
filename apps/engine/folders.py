"""Reading a folder on a host's filesystem through a short-lived helper container.

The folder is bind-mounted read-only with the Mounts API (type "bind"), which refuses a
source that does not exist, so a mistyped path never makes the engine create a folder on
the host (the legacy `Binds` form would). No network, no capabilities, read-only root.
"""

from __future__ import annotations

from docker.types import Mount

from .errors import guard
from .resources import HelperResult, _where, run_to_end

FOLDER_TARGET = "/f"


def run_in_folder(client, image: str, folder: str, command: list[str], *, labels: dict, timeout: float) -> HelperResult:
    """Run `command` with the host folder `folder` mounted read-only at /f."""
    with guard(_where(client), timeout):
        host_config = client.api.create_host_config(
            mounts=[Mount(target=FOLDER_TARGET, source=folder, type="bind", read_only=True)],
            network_mode="none",
            log_config={"Type": "json-file", "Config": {}},  # readable whatever the host's default log driver
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            read_only=True,
        )
        cid = client.api.create_container(image, command=command, host_config=host_config, labels=labels,
                                          working_dir="/", network_disabled=True, user="0:0")["Id"]
        return run_to_end(client, cid, timeout)
