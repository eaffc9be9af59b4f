"""The `cardio` command's entry point: `cardio analyze` goes straight to the analysis engine.

Flask's command group loads every installed Flask plugin's commands on start (Flask-Limiter
brings Rich), a third of a second before any work; the analysis needs none of it, so
`cardio analyze` is dispatched here without importing Flask. Every other command, and
`cardio --help`, is `portal.cli.main`."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["analyze"]:
        from ml.cli import analyze_command

        analyze_command.main(sys.argv[2:], prog_name="cardio analyze")
    else:
        from portal.cli import main as portal_main

        portal_main()
