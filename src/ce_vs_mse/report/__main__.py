"""``python -m ce_vs_mse.report``: the same as ``ce-vs-mse-report``."""

from .build import main

raise SystemExit(main())
