"""``ce-vs-mse-report``: figures and tables from the logged runs, written to results/report.

Reads ``results/runs/**`` through :mod:`.aggregate` and never trains; it imports neither the
training CLI nor the runner. Figures are PNG (and SVG with ``--svg``), tables CSV, and
``REPORT.md`` shows them all with a caption each, after a summary that answers each section's
question from the runs. The same inputs give byte-identical files (no timestamps; fixed SVG
ids).

- :mod:`.build`: the command; which runs and sections go in; REPORT.md around them
- :mod:`.sections`: the registry: each section with its question, in REPORT.md's order
- :mod:`.sections.standard`: the standard section every experiment gets
- :mod:`.sections.neuron`: Nielsen's single sigmoid neuron, from a good and a saturated start
- :mod:`.sections.saturation`: larger initial weights, and whether the gap widens
- :mod:`.sections.fair_lr`: each loss at its own learning rate, chosen on validation
- :mod:`.sections.lr_scaling`: squared error at η against cross-entropy at η/K (η/4 sigmoid)
- :mod:`.sections.lr_scaling_depth`, :mod:`.sections.lr_scaling_neuron`: the same account
  cited on the depth and neuron runs
- :mod:`.sections.counter_case`: a linear head, which never saturates
- :mod:`.sections.classes`: squared error's lag against the number of classes K
- :mod:`.sections.nielsen_mnist`: Nielsen's MNIST network against his published figures
- :mod:`.sections.depth`: deeper sigmoid networks, and per-layer gradient norms
- :mod:`.sections.optimizer`: SGD, momentum and Adam
- :mod:`.sections.label_noise`: wrong training labels, best against final accuracy
- :mod:`.sections.calibration`: reliability diagrams, ECE and Brier score of those models
- :mod:`.sections.landscape`: the loss over a slice of weight space (drawn without runs)
- :mod:`.sections.gradients`: ∂ℓ/∂z of each loss, closed form and autograd (without runs)
- :mod:`.sections.information`: the lecture's entropy and cross-entropy (without runs)
- :mod:`.experiment`: an experiment's seeds, as a section gets them
- :mod:`.aggregate`: runs read back from disk; means and t-intervals over seeds
- :mod:`.seeds`: which seeds and runs a number stands on; two runs compared seed by seed
- :mod:`.tuning`: each loss's η chosen on the validation split, and whether it was bracketed
- :mod:`.compare`: squared error against cross-entropy at a shared η and at each one's own
- :mod:`.reuse`: which comparisons repeat runs an earlier section trained (counted once)
- :mod:`.gap`: whether squared error's lag grows along a setting (saturation, depth)
- :mod:`.scaling`: the step-size account (η against η/K) and the measured gradient ratio
- :mod:`.grad_norms`: the per-layer gradient-norm columns the runs log
- :mod:`.noise_levels`: label_noise and calibration per noise level and η: each loss at every
  η, the shared one and its own (chosen on validation); whether their order flips with η
- :mod:`.sweep`: a swept parameter's figure (saturation, fair_lr)
- :mod:`.tables`: what a table row shows, and how many seeds it stands on
- :mod:`.plots`: curve grids, bars, sweeps and error bars
- :mod:`.style`: one look per head+loss pair, defined once
- :mod:`.document`: REPORT.md and its files; number formats
"""

from .build import build, main

__all__ = ["build", "main"]
