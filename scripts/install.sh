#!/usr/bin/env bash
# Create .venv and install CardioPortal with pinned versions. Re-runs only when inputs change.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
STAMP="$VENV/.installed"

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> Creating $VENV with $($PYTHON --version)"
  "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ] || [ constraints.txt -nt "$STAMP" ]; then
  echo "==> Installing Python packages (pinned by constraints.txt)"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  # train: TensorFlow, for training and for the tests that check the LiteRT export against
  # Keras; production (Dockerfile) installs neither extra, so the portal runs without it.
  "$VENV/bin/python" -m pip install --quiet -c constraints.txt -e '.[test,train]'
  touch "$STAMP"
fi
