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
# One pytest worker per core, at most 4 (TEST_WORKERS=0 runs in one process): each worker starts
# its own MariaDB and Redis servers; a test file stays on one worker (its module fixtures run once).
CORES=$(nproc)
WORKERS=${TEST_WORKERS:-$((CORES < 4 ? CORES : 4))}
echo "==> pytest on $WORKERS workers (SQLite and throwaway MariaDB servers)"
"$VENV/bin/pytest" -n "$WORKERS" --dist loadfile "$@"
