from ml.training.cli import main

raise SystemExit(main())
