"""The configuration: what a run is, before anything is trained.

- :mod:`.schema`: the typed schema (Hydra's ConfigStore), every check on values, which keys
  change results (the hash, the params) and which do not
- :mod:`.tree`: where ``configs/`` is; composing it, and expanding a sweep, as the CLI does
"""
