"""Build results/latest (or with --publish the committed results/report) from results/runs;
the same as the `ce-vs-mse-report` command.

    python scripts/make_report.py [--runs results/runs] [--out results/latest | --publish]
                                  [--experiments named|all|<name>,<name>] [--workers N]
"""

from ce_vs_mse.report import main

if __name__ == "__main__":
    raise SystemExit(main())
