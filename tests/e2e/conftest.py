"""End-to-end infrastructure: a real daphne server in a subprocess against this run's
file-based test database, a Redis channel layer both processes share, and Playwright
driving Debian's chromium. Screenshots go to test-artifacts/ at the repo root."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.helpers import RUN_ID, require_service, worker_id

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REDIS_URL = "redis://127.0.0.1:6379/0"
# Both processes use this prefix: an event the test process publishes (as a worker would)
# reaches the server's sockets, and no other run's events do.
REDIS_PREFIX = f"dftest-{RUN_ID}-{worker_id()}"
# The server verifies passwords of users the tests create: use a hasher it knows.
SERVER_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
PASSWORD = "e2e-Password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    """The URL of the test database pytest-django created (its real, suffixed name)."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = str(db["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.fail("e2e tests need a file-based SQLite test database", pytrace=False)
        return f"sqlite:///{Path(name).resolve()}"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"


def require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        require_service("Redis on 127.0.0.1:6379", False, str(exc))


def wait_until_serving(base_url: str, proc: subprocess.Popen, log_path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"daphne exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"daphne did not serve within {timeout}s:\n{log_path.read_text()[-4000:]}", pytrace=False)


def server_env(port: int, var_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="dockerforge.settings",
        PYTHONPATH=str(REPO_ROOT),
        DATABASE_URL=database_url(),
        # Same secrets as the test process, so sessions and encrypted fields agree.
        SECRET_KEY=django_settings.SECRET_KEY,
        DOCKERFORGE_ENCRYPTION_KEYS=",".join(django_settings.ENCRYPTION_KEYS),
        REDIS_URL=REDIS_URL,
        DOCKERFORGE_REDIS_PREFIX=REDIS_PREFIX,
        CELERY_TASK_ALWAYS_EAGER="true",
        DOCKERFORGE_OUTBOUND_ALLOW="127.0.0.0/8,::1/128",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        DOCKERFORGE_SITE_URL=f"http://127.0.0.1:{port}",
        DOCKERFORGE_VAR_DIR=str(var_dir),
        DOCKERFORGE_LOGIN_RATE_LIMIT="1000",
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


@pytest.fixture(scope="session")
def live_daphne(django_db_setup, django_db_blocker, tmp_path_factory):
    """Base URL of a daphne server serving dockerforge.asgi:application on a free port."""
    require_redis()
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"daphne-{RUN_ID}-{worker_id()}.log"
    with django_db_blocker.unblock():
        env = server_env(port, tmp_path_factory.mktemp("daphne-var"))
    cmd = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "dockerforge.asgi:application"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(base_url, proc, log_path)
        yield base_url
    finally:
        # Stop exactly the process group we started.
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        _drop_redis_keys()


def _drop_redis_keys() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"{REDIS_PREFIX}*"):
        client.delete(key)


@pytest.fixture
def shared_layer(settings):
    """The test process joins the server's channel layer (publishing as a worker would)."""
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": f"{REDIS_PREFIX}:asgi"},
        }
    }
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


# Module scope: Playwright's sync API holds an event loop in the main thread while it runs,
# which later non-browser tests (async_to_sync, Django's async-safety check) must not see.
@pytest.fixture(scope="module")
def browser():
    require_service("Debian's chromium", Path(CHROMIUM).exists(), CHROMIUM)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test body still talks
    # to the database synchronously (only while a browser is open, only in e2e tests).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def e2e_db(transactional_db, settings):
    """Committed rows (the server process reads them) and passwords the server can check."""
    settings.PASSWORD_HASHERS = SERVER_HASHERS


@pytest.fixture
def new_context(browser, live_daphne):
    """Make browser contexts (separate cookie jars) on the live server; closed at the end."""
    contexts = []

    def make(color_scheme: str = "light", viewport=None):
        ctx = browser.new_context(
            base_url=live_daphne, color_scheme=color_scheme, viewport=viewport or {"width": 1280, "height": 800}
        )
        ctx.set_default_timeout(15_000)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        ctx.close()


def login(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button:has-text('Log in')")
    page.wait_for_url(re.compile(r".*/$"))


def wait_live(page) -> None:
    """Wait until the page's team socket is connected (events from now on reach it)."""
    page.wait_for_selector("#live-status[data-state=connected]", state="attached")


def screenshot(page, request, suffix: str = "") -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name + (f"-{suffix}" if suffix else ""))
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
