"""``ai-gateway``: the gateway's command line, Django's ``manage.py`` under an installable name.

``ai-gateway serve|migrate|collectstatic|create_token ...`` runs the same
management commands as ``python manage.py ...`` in a checkout (manage.py calls
this function too). ``DJANGO_SETTINGS_MODULE`` defaults to ``gateway_site.settings``.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gateway_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv if argv is None else argv)


if __name__ == "__main__":
    main()
