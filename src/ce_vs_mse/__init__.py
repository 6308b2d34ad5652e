"""ce_vs_mse: why cross-entropy trains classifiers faster than squared error, measured.

The map, floor by floor (lower floors never import higher ones; tests/test_architecture.py
checks it with import-linter):

- :mod:`.core`: tensors in, tensors out; no files, no Hydra. Heads, every loss and its
  gradient at z (a registry), models with a replica (seed) dimension, datasets (a registry),
  optimizers and init schemes (registries), calibration, the logging schedule, entropy in
  bits and nats, the loss landscape.
- :mod:`.config`: the typed schema, its checks, and composing the config tree and its sweeps.
- :mod:`.store`: the run folder, the one contract between the two wings: where a run's files
  are, its typed summary (done | diverged | failed), atomic files, the lock, job lists.
- :mod:`.train` (wing): the ``ce-vs-mse`` command, from a configuration to run folders: the
  runner, one job's plan, the training loop, the recorder (TensorBoard events, metrics.csv),
  the Hydra sweeper and launchers.
- :mod:`.report` (wing): ``ce-vs-mse-report``, from run folders to figures, tables and
  REPORT.md; it never trains.
- :mod:`.forks`: processes forked from one that has imported torch once (the parallel
  launcher, the report's workers, reproduce).
- :mod:`.reproduce`: ``ce-vs-mse-reproduce``, the pipeline on top: train what is missing of
  every experiment, then build the report.

One run, file by file: ``train/cli.py`` (Hydra composes ``configs/``) → ``config/schema.py``
(checks) → ``train/runner.py`` (loads ``core/data.py``, makes a ``train/plan.py``, claims each
seed's folder with ``store/lock.py``) → ``train/trainer.py`` (``core/models.py``,
``core/losses.py``, ``core/optim.py``) → ``train/recorder.py`` (events, metrics.csv) →
``store/summary.py`` (summary.json, written last) → ``report/aggregate.py`` reads it back.
"""
