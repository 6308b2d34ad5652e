"""The floor everything stands on: tensors in, tensors out; no files, no Hydra.

- :mod:`.heads`: sigmoid, softmax, linear outputs; their slope and the chain rule through them
- :mod:`.losses`: every loss and its closed-form gradient at z, a registry
- :mod:`.models`: logistic regression and MLPs with a replica (seed) dimension; init schemes
- :mod:`.optim`: the optimizers, a registry
- :mod:`.data`: datasets as in-memory tensors, a registry; label noise
- :mod:`.seeding`: one training seed, independent random streams
- :mod:`.schedule`: which steps log and which evaluate
- :mod:`.calibration`: ECE, Brier score, reliability diagrams
- :mod:`.information`: entropy, cross-entropy, KL divergence in bits or nats (the lecture)
- :mod:`.landscape`: the loss over a 2-D slice of weight space
- :mod:`.errors`: the error a bad configuration value raises
"""
