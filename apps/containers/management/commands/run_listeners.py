"""`manage.py run_listeners`: the Docker events listeners of every host this process can lease.

Run as many as you like (one per machine or container): leases make exactly one serve each
host, and a process that dies hands its hosts over when its leases expire.
"""

import logging
import signal
import threading

from django.core.management.base import BaseCommand

from apps.containers.listener import Supervisor

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the Docker events listeners (one event stream per host, held by a per-host lease)."

    def add_arguments(self, parser):
        parser.add_argument("--tick", type=float, default=None, help="Seconds between lease renewals (default: settings)")

    def handle(self, *args, tick=None, **options):
        stop = threading.Event()

        def on_signal(signum, frame):
            logger.info("run_listeners: signal %s, stopping", signum)
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        supervisor = Supervisor()
        self.stdout.write(f"run_listeners: holder {supervisor.holder}")
        supervisor.run(stop, tick)
        self.stdout.write("run_listeners: stopped")
