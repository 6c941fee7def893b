#!/usr/bin/env python
"""Django's command-line utility for administrative tasks (installed as ``ai-gateway``)."""

from gateway_site.cli import main

if __name__ == "__main__":
    main()
