"""The training wing: from a configuration to finished run folders. Never imports the report.

- :mod:`.cli`: the ``ce-vs-mse`` command (Hydra)
- :mod:`.runner`: one job: validate, load, plan, claim the seeds' folders, train, summarise
- :mod:`.plan`: what one job will do, resolved once (head, bound loss, sizes, params)
- :mod:`.trainer`: the one training loop; returns what happened (reached, diverged, final)
- :mod:`.recorder`: writes metrics.csv and TensorBoard events, one folder per replica
- :mod:`.events`: TensorBoard event files, written in the training thread
- :mod:`.board`: what TensorBoard shows beyond the curves: HParams, Custom Scalars
- :mod:`.sweeps`: the checked sweeper, the fork launcher, submitit's launchers made tolerant
- :mod:`.console`: what a run and a sweep print when they end
"""
