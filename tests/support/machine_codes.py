"""The finding codes `ml/findings.py` can write, read from its source: every `Finding("CODE",
...)` and `add_episodes("label", "CODE", ...)` with a literal code."""

from __future__ import annotations

import ast
from pathlib import Path

FINDINGS_SOURCE = Path(__file__).resolve().parents[2] / "ml" / "findings.py"


def codes_the_machine_writes() -> set[str]:
    tree = ast.parse(FINDINGS_SOURCE.read_text())
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]

    def literal_args(function: str, position: int) -> set[str]:
        return {
            call.args[position].value
            for call in calls
            if getattr(call.func, "id", None) == function
            and len(call.args) > position
            and isinstance(call.args[position], ast.Constant)
        }

    return literal_args("Finding", 0) | literal_args("add_episodes", 1)
