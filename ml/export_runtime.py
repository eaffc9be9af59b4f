"""`python -m ml.export_runtime`: the command lives in `ml.training.export`; this keeps the
short name (like `python -m ml.train`)."""

from ml.training.export import main

if __name__ == "__main__":
    raise SystemExit(main())
