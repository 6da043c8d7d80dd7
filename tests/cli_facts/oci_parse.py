"""Does each `oci …` command line parse? Run by the OCI CLI's own Python (.github/oci-cli/.venv).

Reads a JSON list of argument lists (without the leading `oci`) on standard input and prints a JSON
list: null where the command parses, else the CLI's own message. Each command gets `--help`
appended: click parses every option and resolves every subcommand first (an unknown option,
command or choice, or an option missing its value, is a usage error), and only then answers the
help flag, so nothing is ever sent to OCI. One process for all commands: importing the CLI is the
slow part.
"""

import contextlib
import io
import json
import sys

import click
from oci_cli import dynamic_loader
from oci_cli.cli import cli


def problem(args: list[str]) -> str | None:
    out = io.StringIO()
    # The CLI loads a service's commands on demand (its entry point does this from sys.argv).
    dynamic_loader.load_service_from_command(args)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = cli.main(args=[*args, "--help"], prog_name="oci", standalone_mode=False)
    except click.exceptions.ClickException as error:
        return error.format_message()
    except SystemExit as error:
        code = error.code
    if code not in (0, None):
        return out.getvalue()[-600:] or f"exit code {code}"
    return None


if __name__ == "__main__":
    print(json.dumps([problem(args) for args in json.load(sys.stdin)]))
