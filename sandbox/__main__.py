"""``python -m sandbox <django management command ...>`` with the sandbox's own settings."""

import os
import sys


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "sandbox.settings"
    from django.core.management import execute_from_command_line

    execute_from_command_line([f"{sys.executable} -m sandbox", *sys.argv[1:]])


if __name__ == "__main__":
    main()
