#!/usr/bin/env bash
# The whole test suite, from a fresh machine: system packages, Python packages, lint, types, tests.
# Extra arguments go to pytest (e.g. `make test ARGS="-k patients"` or `bash scripts/test.sh -x`).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/system-packages.sh
bash scripts/install.sh
VENV=${VENV:-.venv}

echo "==> ruff"
"$VENV/bin/ruff" check portal ml reports tests bench migrations/env.py
"$VENV/bin/ruff" format --check portal ml reports tests bench migrations/env.py
echo "==> mypy"
"$VENV/bin/mypy" portal ml reports
echo "==> pytest (SQLite and a throwaway MariaDB server)"
"$VENV/bin/pytest" "$@"
