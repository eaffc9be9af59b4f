"""`python -m ml.evaluate`: the whole analysis against reference annotations.

The command lives in `ml.research.evaluate`; this module keeps the short name working."""

from ml.research.evaluate import main

if __name__ == "__main__":
    raise SystemExit(main())
