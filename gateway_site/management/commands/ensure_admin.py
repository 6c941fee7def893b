"""Create the first administrator if there is none, and say how to sign in.

With DJANGO_SUPERUSER_USERNAME / DJANGO_SUPERUSER_PASSWORD set, those are
used; otherwise the user is ``admin`` with a random password printed once.
"""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the first superuser if none exists (password printed once)."

    def handle(self, *args: object, **options: object) -> None:
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            self.stdout.write("An administrator already exists; sign in with that account.")
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin"
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        generated = not password
        password = password or secrets.token_urlsafe(18)
        User.objects.create_superuser(username=username, email="", password=password)
        if generated:
            self.stdout.write(
                self.style.WARNING(
                    f"Created administrator {username!r} with password: {password}\n"
                    "This password is shown only once; change it after signing in."
                )
            )
        else:
            self.stdout.write(f"Created administrator {username!r} from DJANGO_SUPERUSER_USERNAME/PASSWORD.")
