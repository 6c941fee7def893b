"""Re-encrypt every stored provider secret under the newest GATEWAY_ENCRYPTION_KEYS entry."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from keys import services
from keys.crypto import SecretDecryptionError


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored provider secret with the first (newest) key of GATEWAY_ENCRYPTION_KEYS. "
        "Run it after putting a new key first; remove the old key only after it succeeds."
    )

    def handle(self, *args: object, **options: object) -> None:
        try:
            count = services.rotate_all()
        except SecretDecryptionError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {count} secret(s) under the newest key."))
