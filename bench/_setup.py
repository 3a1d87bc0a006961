"""Shared set-up for benchmarks: Django on a throw-away SQLite database (or DATABASE_URL)."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    if "DATABASE_URL" not in os.environ:
        var = tempfile.mkdtemp(prefix="df-bench-")
        os.environ["DOCKERFORGE_VAR_DIR"] = var
        os.environ["DATABASE_URL"] = f"sqlite:///{var}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dockerforge.settings")
    os.environ.setdefault("DOCKERFORGE_OUTBOUND_ALLOW", "127.0.0.0/8")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
