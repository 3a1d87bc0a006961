"""Config audit from `docker inspect`: CIS Docker Benchmark section 5 (runtime) and image checks
after Dockle (CIS-DI-*, DKL-DI-*). Pure: each check reads the inspect documents and returns
pass/fail with evidence. Third-party checks join through `apps.core.registries.audit_checks`
(entry-point group `dockerforge.audit_checks`): an entry is a `Check` or a list of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from apps.core.registries import audit_checks

SENSITIVE_DIRS = ("/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr")
DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
SECRET_ENV = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)", re.I)


@dataclass(frozen=True)
class Context:
    container: dict  # container inspect ({} for an image-only audit)
    image: dict  # image inspect
    image_ref: str = ""


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    kind: str  # "runtime" | "image"
    severity: str
    remediation: str
    evaluate: Callable[[Context], tuple[bool | None, str]]  # (failed? None = not applicable, evidence)


def _hc(ctx: Context) -> dict:
    return ctx.container.get("HostConfig") or {}


def _security_opts(ctx: Context) -> list[str]:
    return [o.replace(":", "=", 1) for o in (_hc(ctx).get("SecurityOpt") or [])]


def _mount_sources(ctx: Context) -> list[tuple[str, str]]:
    out = [(m.get("Source", ""), m.get("Destination", "")) for m in ctx.container.get("Mounts") or [] if m.get("Type") == "bind"]
    for bind in _hc(ctx).get("Binds") or []:
        source, _, rest = bind.partition(":")
        out.append((source, rest.split(":")[0]))
    return sorted(set(out))


def _published(ctx: Context) -> list[tuple[str, str, str]]:
    out = []
    for port, bindings in (_hc(ctx).get("PortBindings") or {}).items():
        for b in bindings or []:
            out.append((port, b.get("HostIp", ""), b.get("HostPort", "")))
    return out


# --- runtime checks (CIS Docker Benchmark 1.8 section 5) ------------------------------------

def c_apparmor(ctx):
    profile = ctx.container.get("AppArmorProfile", "")
    if not profile:
        return None, "the host has no AppArmor"
    return profile == "unconfined", f"AppArmorProfile={profile}"


def c_capabilities(ctx):
    hc = _hc(ctx)
    added, dropped = hc.get("CapAdd") or [], [c.upper() for c in hc.get("CapDrop") or []]
    failed = bool(added) or "ALL" not in dropped
    return failed, f"CapAdd={added or '[]'} CapDrop={dropped or '[]'}"


def c_privileged(ctx):
    return bool(_hc(ctx).get("Privileged")), f"Privileged={bool(_hc(ctx).get('Privileged'))}"


def c_sensitive_mounts(ctx):
    hits = [f"{s}:{d}" for s, d in _mount_sources(ctx) if s.rstrip("/") in SENSITIVE_DIRS or s == "/"]
    return bool(hits), ", ".join(hits) or "no sensitive host directory mounted"


def c_privileged_ports(ctx):
    hits = [f"{hp}->{p}" for p, _ip, hp in _published(ctx) if hp.isdigit() and 0 < int(hp) < 1024]
    return bool(hits), ", ".join(hits) or "no host port below 1024"


def c_publish_all(ctx):
    return bool(_hc(ctx).get("PublishAllPorts")), f"PublishAllPorts={bool(_hc(ctx).get('PublishAllPorts'))}"


def c_host_network(ctx):
    return _hc(ctx).get("NetworkMode") == "host", f"NetworkMode={_hc(ctx).get('NetworkMode', '')}"


def c_memory(ctx):
    return not _hc(ctx).get("Memory"), f"Memory={_hc(ctx).get('Memory', 0)}"


def c_cpu(ctx):
    hc = _hc(ctx)
    shares, nano, quota = hc.get("CpuShares") or 0, hc.get("NanoCpus") or 0, hc.get("CpuQuota") or 0
    return shares in (0, 1024) and not nano and not quota, f"CpuShares={shares} NanoCpus={nano} CpuQuota={quota}"


def c_readonly(ctx):
    return not _hc(ctx).get("ReadonlyRootfs"), f"ReadonlyRootfs={bool(_hc(ctx).get('ReadonlyRootfs'))}"


def c_bind_interface(ctx):
    hits = [f"{ip or '0.0.0.0'}:{hp}->{p}" for p, ip, hp in _published(ctx) if ip in ("", "0.0.0.0", "::")]
    return bool(hits), ", ".join(hits) or "published ports are bound to specific addresses"


def c_restart(ctx):
    policy = _hc(ctx).get("RestartPolicy") or {}
    name, retries = policy.get("Name", ""), policy.get("MaximumRetryCount", 0)
    failed = name in ("always", "unless-stopped") or (name == "on-failure" and retries > 5)
    return failed, f"RestartPolicy={name or 'no'} MaximumRetryCount={retries}"


def _mode(field: str):
    def check(ctx):
        value = _hc(ctx).get(field) or ""
        return value == "host", f"{field}={value or 'private'}"

    return check


def c_devices(ctx):
    devices = [d.get("PathOnHost", "") for d in _hc(ctx).get("Devices") or []]
    return bool(devices), ", ".join(devices) or "no host devices"


def c_propagation(ctx):
    hits = [m.get("Destination", "") for m in ctx.container.get("Mounts") or [] if m.get("Propagation") in ("shared", "rshared")]
    return bool(hits), ", ".join(hits) or "no shared mount propagation"


def c_seccomp(ctx):
    if _hc(ctx).get("Privileged"):
        return True, "Privileged=True disables seccomp"
    unconfined = "seccomp=unconfined" in _security_opts(ctx)
    return unconfined, "seccomp=unconfined" if unconfined else "default or custom seccomp profile"


def c_cgroup(ctx):
    parent = _hc(ctx).get("CgroupParent") or ""
    return bool(parent), f"CgroupParent={parent or 'default'}"


def c_no_new_privs(ctx):
    opts = _security_opts(ctx)
    ok = any(o in ("no-new-privileges", "no-new-privileges=true") for o in opts)
    return not ok, f"SecurityOpt={opts or '[]'}"


def c_healthcheck(ctx):
    hc = (ctx.container.get("Config") or {}).get("Healthcheck") or (ctx.image.get("Config") or {}).get("Healthcheck")
    test = (hc or {}).get("Test") or []
    failed = not test or test[0] == "NONE"
    return failed, "no HEALTHCHECK" if failed else f"Healthcheck={' '.join(test)[:100]}"


def c_pids(ctx):
    limit = _hc(ctx).get("PidsLimit")
    return not limit or limit <= 0, f"PidsLimit={limit}"


def c_default_bridge(ctx):
    mode = _hc(ctx).get("NetworkMode") or "default"
    return mode in ("default", "bridge"), f"NetworkMode={mode}"


def c_userns(ctx):
    return _hc(ctx).get("UsernsMode") == "host", f"UsernsMode={_hc(ctx).get('UsernsMode') or 'default'}"


def c_docker_sock(ctx):
    hits = [f"{s}:{d}" for s, d in _mount_sources(ctx) if s in DOCKER_SOCKETS]
    return bool(hits), ", ".join(hits) or "docker.sock not mounted"


def _is_root(user: str) -> bool:
    return user.split(":")[0] in ("", "root", "0")


def c_container_user(ctx):
    user = (ctx.container.get("Config") or {}).get("User", "")
    return _is_root(user), f"User={user or '(image default: root)'}"


# --- image checks (after Dockle) ------------------------------------------------------------

def i_root(ctx):
    user = (ctx.image.get("Config") or {}).get("User", "")
    return _is_root(user), f"USER={user or '(unset: root)'}"


def i_healthcheck(ctx):
    test = ((ctx.image.get("Config") or {}).get("Healthcheck") or {}).get("Test") or []
    failed = not test or test[0] == "NONE"
    return failed, "no HEALTHCHECK instruction" if failed else "HEALTHCHECK present"


def i_secret_env(ctx):
    keys = []
    for item in (ctx.image.get("Config") or {}).get("Env") or []:
        key, _, value = item.partition("=")
        if SECRET_ENV.search(key) and value:
            keys.append(key)  # the name only: never the value
    return bool(keys), ("suspicious ENV keys: " + ", ".join(keys)) if keys else "no secret-looking ENV"


def i_latest(ctx):
    ref = ctx.image_ref or ""
    if not ref or ref.startswith("sha256:") or "@" in ref:
        return None, "referenced by digest"
    tail = ref.rsplit("/", 1)[-1]
    tag = tail.split(":", 1)[1] if ":" in tail else "latest"
    return tag == "latest", f"tag={tag}"


BUILTIN: list[Check] = [
    Check("4.1", "Run as a non-root user", "runtime", "high", "Set USER in the image or run with --user UID.", c_container_user),
    Check("5.2", "AppArmor profile", "runtime", "medium", "Run with the default or a custom AppArmor profile.", c_apparmor),
    Check("5.4", "Linux capabilities restricted", "runtime", "medium", "Run with --cap-drop ALL and add only what is needed.", c_capabilities),
    Check("5.5", "No privileged container", "runtime", "critical", "Do not use --privileged.", c_privileged),
    Check("5.6", "No sensitive host directories mounted", "runtime", "high", "Do not bind-mount /, /boot, /dev, /etc, /lib, /proc, /sys or /usr.", c_sensitive_mounts),
    Check("5.8", "No privileged host ports", "runtime", "low", "Map container ports to host ports above 1024.", c_privileged_ports),
    Check("5.9", "Only needed ports published", "runtime", "low", "Do not use --publish-all.", c_publish_all),
    Check("5.10", "Host network namespace not shared", "runtime", "high", "Do not use --network host.", c_host_network),
    Check("5.11", "Memory limited", "runtime", "medium", "Run with --memory.", c_memory),
    Check("5.12", "CPU priority set", "runtime", "low", "Run with --cpus or --cpu-shares.", c_cpu),
    Check("5.13", "Root filesystem read-only", "runtime", "medium", "Run with --read-only (and tmpfs for writable paths).", c_readonly),
    Check("5.14", "Ports bound to a specific interface", "runtime", "low", "Publish as -p IP:HOSTPORT:PORT.", c_bind_interface),
    Check("5.15", "Restart policy on-failure, at most 5", "runtime", "low", "Use --restart on-failure:5.", c_restart),
    Check("5.16", "Host PID namespace not shared", "runtime", "high", "Do not use --pid host.", _mode("PidMode")),
    Check("5.17", "Host IPC namespace not shared", "runtime", "high", "Do not use --ipc host.", _mode("IpcMode")),
    Check("5.18", "No host devices", "runtime", "medium", "Do not use --device.", c_devices),
    Check("5.20", "Mount propagation not shared", "runtime", "medium", "Do not mount with shared propagation.", c_propagation),
    Check("5.21", "Host UTS namespace not shared", "runtime", "medium", "Do not use --uts host.", _mode("UTSMode")),
    Check("5.22", "Seccomp profile not disabled", "runtime", "high", "Do not use --security-opt seccomp=unconfined (or --privileged).", c_seccomp),
    Check("5.25", "Default cgroup used", "runtime", "low", "Do not use --cgroup-parent.", c_cgroup),
    Check("5.26", "No new privileges", "runtime", "medium", "Run with --security-opt no-new-privileges.", c_no_new_privs),
    Check("5.27", "Health check configured", "runtime", "low", "Add a HEALTHCHECK or --health-cmd.", c_healthcheck),
    Check("5.29", "PIDs limited", "runtime", "medium", "Run with --pids-limit.", c_pids),
    Check("5.30", "Default bridge not used", "runtime", "low", "Attach to a user-defined network.", c_default_bridge),
    Check("5.31", "Host user namespace not shared", "runtime", "medium", "Do not use --userns host.", c_userns),
    Check("5.32", "docker.sock not mounted", "runtime", "critical", "Never mount the Docker socket into a container.", c_docker_sock),
    Check("CIS-DI-0001", "Image user is not root", "image", "high", "Add USER with a non-root user to the Dockerfile.", i_root),
    Check("CIS-DI-0006", "Image has a HEALTHCHECK", "image", "low", "Add a HEALTHCHECK instruction.", i_healthcheck),
    Check("CIS-DI-0010", "No secrets in ENV", "image", "critical", "Pass secrets at run time (secrets, files), not in ENV.", i_secret_env),
    Check("DKL-DI-0006", "Not the latest tag", "image", "low", "Reference an explicit version tag.", i_latest),
]


def register_builtin() -> None:
    for check in BUILTIN:
        audit_checks.register(check.id, check)


def all_checks() -> list[Check]:
    """Built-ins and plugins, in registry order (an entry may be a list of checks)."""
    out: list[Check] = []
    for _name, item in audit_checks.items():
        out.extend(item if isinstance(item, list | tuple) else [item])
    return out


def run_checks(ctx: Context, *, kinds=("runtime", "image"), excluded: set[str] = frozenset()) -> list[dict]:
    results = []
    for check in all_checks():
        if check.kind not in kinds:
            continue
        try:
            failed, evidence = check.evaluate(ctx)
            status = "n/a" if failed is None else ("fail" if failed else "pass")
        except Exception as exc:  # noqa: BLE001 - a broken (plugin) check must not break the audit
            status, evidence = "error", f"{exc.__class__.__name__}: {exc}"
        if check.id in excluded and status == "fail":
            status = "excluded"
        results.append({
            "id": check.id, "title": check.title, "kind": check.kind, "severity": check.severity,
            "status": status, "evidence": evidence, "remediation": check.remediation,
        })
    return results


def failed_ids(results: list[dict]) -> list[str]:
    return [r["id"] for r in results if r["status"] == "fail"]
