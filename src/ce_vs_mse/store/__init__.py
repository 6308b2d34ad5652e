"""The run folder: the one contract between training and everything that reads its results.

- :mod:`.layout`: where a run's files are (names, the configuration's hash, finding a run)
- :mod:`.summary`: ``summary.json`` as a typed record (done | diverged | failed), written,
  read and verified in one place; what "finished" means
- :mod:`.files`: atomic writes, strict JSON, file fingerprints
- :mod:`.lock`: one process per folder (``flock``)
- :mod:`.manifest`: an experiment's list of jobs (``.jobs.json``)
- :mod:`.provenance`: the code, packages and machine a run was made with
- :mod:`.published`: the committed report (``results/report``): where a build goes, its
  answer, and a build's tables against it

The store imports :mod:`ce_vs_mse.config` (a run's name and hash are functions of its
configuration) and nothing above it.
"""
