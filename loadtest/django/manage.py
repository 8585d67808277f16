#!/usr/bin/env python3
"""The PeeringDB stand-in of `make bench`: Django and django-oauth-toolkit,
the library PeeringDB's own OAuth server is built on. See standin/settings.py."""
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "standin.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
