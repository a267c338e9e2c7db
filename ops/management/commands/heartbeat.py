"""The health checks of the worker and beat containers: exit 0 when alive, 1 with one line when not.

manage.py heartbeat worker [--destination celery@HOST] [--timeout S]
manage.py heartbeat beat [--max-age S]
"""

from celery.exceptions import TimeoutError as CeleryTimeout
from celery.utils import worker_direct
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ops import heartbeat
from ops.tasks import heartbeat as heartbeat_task


class Command(BaseCommand):
    help = "Exit 0 if a worker runs the heartbeat task (worker) or beat ticked lately (beat)."

    def add_arguments(self, parser):
        parser.add_argument("process", choices=["worker", "beat"])
        parser.add_argument("--destination", default="", help="the worker that must answer (its node name)")
        parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for the worker's answer")
        parser.add_argument("--max-age", type=float, default=settings.READY_BEAT_MAX_AGE, help="beat: seconds")

    def handle(self, *args, process, destination, timeout, max_age, **options):
        if process == "beat":
            age = heartbeat.ages()[heartbeat.BEAT_KEY]
            if age is None or age > max_age:
                raise CommandError(
                    "beat has not ticked " + ("yet" if age is None else f"for {age:.0f} s"), returncode=1
                )
            self.stdout.write(f"beat ticked {age:.0f} s ago")
            return
        queue = worker_direct(destination) if destination else None
        result = heartbeat_task.apply_async(queue=queue, expires=timeout)
        try:
            result.get(timeout=timeout)
        except CeleryTimeout:
            raise CommandError(f"no worker answered within {timeout:g} s", returncode=1) from None
        finally:
            result.forget()
        self.stdout.write("a worker answered")
