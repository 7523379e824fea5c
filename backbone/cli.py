"""The `backbone` console script: Django's management commands with Backbone's settings."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backbone.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["backbone", *sys.argv[1:]])


if __name__ == "__main__":
    main()
