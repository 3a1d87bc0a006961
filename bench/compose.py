"""Compose: validation time for a 200-service file (median ms) and discovery time for 50
stacks (labels from the mirror + a stack folder), printed. Runs alone:
`python bench/compose.py`."""

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def big_compose(n: int = 200) -> str:
    lines = ["services:"]
    for i in range(n):
        deps = f"\n    depends_on: [svc{i - 1}]" if i else ""
        lines.append(f"""  svc{i}:
    image: example/app{i % 7}:1.{i}
    ports: ["{10000 + i}:80"]
    environment:
      INDEX: "{i}"
      URL: "${{BASE_URL:-http://localhost}}/{i}"
    networks: [net{i % 5}]
    volumes: ["data{i % 10}:/data"]{deps}""")
    lines.append("networks:\n" + "".join(f"  net{i}: {{}}\n" for i in range(5)))
    lines.append("volumes:\n" + "".join(f"  data{i}: {{}}\n" for i in range(10)))
    return "\n".join(lines)


def median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_validation() -> None:
    from apps.compose.validation import validate

    text = big_compose()
    result = validate(text)
    assert result.ok, result.errors[:3]
    ms = median_ms(lambda: validate(text), 15)
    print(f"validation, 200 services ({len(text) // 1024} KiB): median {ms:.1f} ms")


def bench_discovery() -> None:
    from _setup import django_setup

    django_setup()
    from apps.accounts.models import Team
    from apps.compose import discovery
    from apps.compose.models import StackFolder
    from apps.containers.models import Container
    from apps.hosts.models import DockerHost

    team = Team.objects.create(name="bench", slug=f"bench-{time.time_ns()}")
    host = DockerHost.objects.create(team=team, name="local", url="unix:///var/run/docker.sock")
    folder = Path(tempfile.mkdtemp(prefix="df-bench-stacks-"))
    for i in range(50):
        for service in ("web", "db"):
            Container.objects.create(team=team, host=host, docker_id=f"{i}-{service}", name=f"s{i}-{service}-1", state="running",
                                     compose_project=f"s{i}", compose_service=service,
                                     labels={discovery.LABEL_PROJECT: f"s{i}", discovery.LABEL_SERVICE: service,
                                             discovery.LABEL_WORKDIR: str(folder / f"s{i}"), discovery.LABEL_FILES: "compose.yaml"})
        (folder / f"f{i}").mkdir()
        (folder / f"f{i}" / "compose.yaml").write_text("services:\n  a:\n    image: x\n")
    StackFolder.objects.create(host=host, path=str(folder))
    discovery.discover_host(host, refresh=False)  # first run creates the rows
    ms = median_ms(lambda: discovery.discover_host(host, refresh=False), 7)
    print(f"discovery, 50 labelled stacks + 50 folder stacks (mirror, no engine call): median {ms:.1f} ms")


if __name__ == "__main__":
    bench_validation()
    bench_discovery()
