"""`manage.py run_collectors`: the long-running metrics collector. Every
DOCKERFORGE_METRICS_INTERVAL seconds it samples each host whose "collector" lease it holds;
run as many as you like, exactly one serves each host."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from apps.monitoring.collector import run_forever


class Command(BaseCommand):
    help = "Collect container and host metrics from every Docker host (long-running)."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=None, help="seconds between rounds (default: DOCKERFORGE_METRICS_INTERVAL)")

    def handle(self, *args, interval=None, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        interval = interval or settings.METRICS_INTERVAL
        self.stdout.write(f"collecting every {interval:g} s (Ctrl-C stops)")
        run_forever(stop, interval)
        self.stdout.write("collectors stopped; leases released")
