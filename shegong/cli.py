"""The `shegong` console script: Django's management commands with the settings preset.

`shegong check` is the staffing compliance check (the `compliance` command), which is what users of
this system mean by "check"; Django's own system check stays available as `shegong systemcheck`.
"""

import os
import sys

ALIASES = {"check": "compliance", "systemcheck": "check"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    argv = list(sys.argv)
    if len(argv) > 1 and argv[1] in ALIASES:
        argv[1] = ALIASES[argv[1]]
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
