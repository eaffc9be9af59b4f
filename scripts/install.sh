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
# The project is installed editable, so pip compiles none of its modules; where
# PYTHONDONTWRITEBYTECODE is set Python never caches them either, and every command (a cold
# `cardio analyze`, each test's server) would compile them again. Compiled once here, as the
# Dockerfile does; a module edited later is recompiled in memory until the next install.
"$VENV/bin/python" -m compileall -q portal ml reports migrations > /dev/null
