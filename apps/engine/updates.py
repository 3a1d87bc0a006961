"""Engine calls the updates app needs beyond lifecycle/resources: running a hook command in a
container and reading a container's restart count."""

from __future__ import annotations

from .errors import guard


def run_in_container(client, ref: str, command: str, *, where: str = "the engine") -> tuple[int, str]:
    """Run `sh -c command` in a running container; (exit code, output decoded leniently)."""
    with guard(where):
        exec_id = client.api.exec_create(ref, ["sh", "-c", command], stdout=True, stderr=True)["Id"]
        output = client.api.exec_start(exec_id, stream=False)
        code = client.api.exec_inspect(exec_id).get("ExitCode")
    text = output.decode("utf-8", errors="replace") if isinstance(output, bytes) else str(output)
    return (code if code is not None else -1), text
