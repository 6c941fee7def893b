"""Delete request logs older than GATEWAY_REQUEST_LOG_RETENTION_DAYS (for cron, or by hand)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from endpoints import request_log


class Command(BaseCommand):
    help = "Delete request logs older than GATEWAY_REQUEST_LOG_RETENTION_DAYS (0 keeps them forever)."

    def handle(self, *args: object, **options: object) -> None:
        kept = request_log.retention()
        if kept is None:
            self.stdout.write("GATEWAY_REQUEST_LOG_RETENTION_DAYS is 0: request logs are kept forever.")
            return
        count = request_log.purge_expired()
        self.stdout.write(self.style.SUCCESS(f"Deleted {count} request log(s) older than {kept.days} day(s)."))
