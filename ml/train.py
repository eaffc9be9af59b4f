"""`python -m ml.train`: the command lives in `ml.training.cli`; this keeps the short name."""

from ml.training.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
