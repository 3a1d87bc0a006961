"""The pure validation module against real-world style Compose files (tests/compose/data)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from apps.compose import validation
from apps.compose.validation import Context, parse_port, validate

DATA = Path(__file__).parent / "data"
VALID = sorted((DATA / "valid").glob("*.y*ml"))
BROKEN = sorted((DATA / "broken").glob("*.y*ml"))
EXPECT = re.compile(r"^# expect: (\d+):(\d+) (.+)$")


def _env_for(path: Path) -> str | None:
    env = path.with_suffix(".env")
    return env.read_text() if env.exists() else None


def test_the_data_sets_are_large_enough():
    assert len(VALID) >= 20 and len(BROKEN) >= 20


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_examples_raise_no_false_alarm(path):
    result = validate(path.read_text(), env_file=_env_for(path), env={"HOME_DIR": "/srv"})
    assert result.errors == [], [str(e) for e in result.errors]
    assert [w for w in result.warnings if w.code == "unset-variable"] == []


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_broken_variants_fail_with_message_and_location(path):
    line, column, message = EXPECT.match(path.read_text().splitlines()[0]).groups()
    result = validate(path.read_text())
    assert not result.ok
    matching = [e for e in result.errors if message in e.message]
    assert matching, f"{message!r} not in {[str(e) for e in result.errors]}"
    assert (matching[0].line, matching[0].column) == (int(line), int(column)), str(matching[0])


def test_plain_unset_variable_is_a_warning_with_location():
    result = validate("services:\n  a:\n    image: busybox:${TAG}\n")
    assert result.ok
    [warning] = result.warnings
    assert "TAG variable is not set" in warning.message and (warning.line, warning.column) == (3, 12)
    assert result.data["services"]["a"]["image"] == "busybox:"


@pytest.mark.parametrize("text,env,expected", [
    ("${A}", {"A": "x"}, "x"),
    ("${A:-d}", {"A": ""}, "d"),
    ("${A-d}", {"A": ""}, ""),
    ("${A-d}", {}, "d"),
    ("${A:+alt}", {"A": "1"}, "alt"),
    ("${A+alt}", {}, ""),
    ("$$A", {"A": "x"}, "$A"),
    ("$A-$B", {"A": "1", "B": "2"}, "1-2"),
    ("${A:-${B:-nested}}", {}, "nested"),
    ("${A?no}", {"A": ""}, ""),
])
def test_interpolation_forms(text, env, expected):
    result = validate(f"services:\n  a:\n    image: busybox\n    labels:\n      v: '{text}'\n", env=env)
    assert result.ok, result.errors
    assert result.data["services"]["a"]["labels"]["v"] == expected


def test_set_but_empty_with_question_mark_colon_is_an_error():
    result = validate("services:\n  a:\n    image: 'x${A:?empty}'\n", env={"A": ""})
    assert [e.code for e in result.errors] == ["interpolation"]


def test_env_wins_over_env_file_and_variables_are_reported():
    result = validate("services:\n  a:\n    image: 'busybox:${TAG}'\n", env_file="TAG=1\n", env={"TAG": "2"})
    assert result.data["services"]["a"]["image"] == "busybox:2" and result.variables == {"TAG": "2"}


def test_env_file_syntax_error_has_its_line():
    result = validate("services:\n  a:\n    image: busybox\n", env_file="# c\nGOOD=1\nnot a pair\n")
    assert [(e.line, e.code) for e in result.errors] == [(3, "env-syntax")]


@pytest.mark.parametrize("spec,published,targets,proto", [
    ("80", [], [80], "tcp"),
    ("8080:80", [8080], [80], "tcp"),
    ("127.0.0.1:8080:80/udp", [8080], [80], "udp"),
    ("127.0.0.1::80", [], [80], "tcp"),
    ("[::1]:8080:80", [8080], [80], "tcp"),
    ("9000-9001:9000-9001", [9000, 9001], [9000, 9001], "tcp"),
    (53, [], [53], "tcp"),
    ({"target": 80, "published": "8080", "protocol": "udp"}, [8080], [80], "udp"),
])
def test_port_specs(spec, published, targets, proto):
    port = parse_port(spec)
    assert (port.published, port.targets, port.proto) == (published, targets, proto)


def test_same_port_on_different_host_ips_does_not_conflict():
    text = "services:\n  a:\n    image: x\n    ports: ['127.0.0.1:80:80']\n  b:\n    image: x\n    ports: ['127.0.0.2:80:80']\n"
    assert validate(text).ok


COMPOSE = (DATA / "valid" / "22-busybox-test.yaml").read_text()


def test_context_warns_about_busy_ports_and_missing_images():
    text = "services:\n  a:\n    image: nginx\n    ports: ['8080:80']\n  b:\n    image: busybox\n    build: .\n"
    ctx = Context(busy_ports={(8080, "tcp"): "container 'other' (stack x)"}, local_images={"redis:7"},
                  registry_check=lambda ref: None)
    result = validate(text, context=ctx)
    messages = {w.code: w for w in result.warnings}
    assert result.ok
    assert "already taken on the host by container 'other'" in messages["port-busy"].message
    assert messages["port-busy"].line == 4
    image_msgs = [w.message for w in result.warnings if w.code == "image-missing"]
    assert any("'nginx'" in m and "unknown" in m for m in image_msgs)
    assert any("'busybox'" in m and "will be built" in m for m in image_msgs)


@pytest.mark.parametrize("answer,words", [(True, "will be pulled"), (False, "nor in its registry")])
def test_registry_answer_changes_the_image_warning(answer, words):
    result = validate("services:\n  a:\n    image: nginx\n", context=Context(local_images=set(), registry_check=lambda r: answer))
    assert words in result.warnings[0].message


def test_local_image_names_are_normalised():
    ctx = Context(local_images={"docker.io/library/nginx:latest", "dockerforge/busybox:test"})
    assert validate("services:\n  a:\n    image: nginx\n  b:\n    image: dockerforge/busybox:test\n", context=ctx).warnings == []


def test_keys_unknown_to_compose_v1_are_warnings():
    text = "name: demo\nservices:\n  a:\n    image: x\n    develop: {}\n"
    result = validate(text, context=Context(cli=("docker-compose", "1.29.2")))
    assert result.ok
    assert sorted((w.line, w.code) for w in result.warnings) == [(1, "cli-unsupported"), (5, "cli-unsupported")]
    assert validate(text, context=Context(cli=("docker compose", "2.29.0"))).warnings == []


def test_empty_and_non_mapping_documents():
    assert validate("").errors[0].code == "empty"
    assert validate("- a\n- b\n").errors[0].code == "schema"


def test_mask_replaces_values_longest_first():
    assert validation.mask("pw=secret123 and secret", ["secret", "secret123", "x"]) == "pw=•••••• and ••••••"


def test_importing_the_module_does_not_import_django():
    code = "import sys; import apps.compose.validation; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"
