"""What TensorBoard shows beyond a run's own curves: the HParams experiment and session, and
the Custom Scalars layout.

Where they live: in every run's own event file, next to its scalars
(:class:`ce_vs_mse.recorder.RunWriter` writes them when it opens the run). Not in a file of
their own at the top of a logdir: an event file there is a run of its own in TensorBoard
(``.`` or ``<experiment>``), one more entry in every run list and legend, with no curves.
Inside the runs they are found whatever folder ``--logdir`` names (``results/runs``, one
experiment, one configuration), appear while a job is still training, and need no lock or
shared file, however many jobs of a sweep write at once. The HParams plugin takes the
experiment from any one run (``_find_experiment_tag``) and the Custom Scalars plugin merges
the runs' layouts, dropping charts it has already placed; both are only right if every run
declares the same experiment and compatible layouts. So the experiment is a function of the
schema (its discrete domains are the schema's choices, valid for any run to come) and of what
the run's sweep varies (:func:`swept`, the same for every job of one sweep), and
a layout is a function of the run's tags alone (runs that log the same tags declare the same
layout; another model adds its own layers' charts).

TensorBoard's HParams plugin sorts the hyperparameters before it answers, those marked
``differs`` first, then by name (``backend_context._sort_and_reduce_to_hparams_limit``), and
its table shows the first five. So the declared order is kept by names that sort in it
(``"01 loss"``), shown by their display names (``loss``), and what the run's sweep varies
(:func:`swept`), the seed among it, is marked ``differs``: those columns are shown first.

:func:`comparison_url` is the link that opens Time Series on the question's comparison.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from urllib.parse import quote, urlencode

from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.custom_scalar import metadata as layout_metadata
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.hparams.summary_v2 import Discrete

from ..config import schema, tree
from ..core import data, heads, losses, models, optim

# A scalar only the event file holds (it is one number per run, also in summary.json): the
# first step whose test accuracy reached trainer.target_accuracy; not logged when never.
STEPS_TO_TARGET = "steps_to_target"

# The HParams table's columns, first to last; the rest of schema.PARAMS follows in its order.
# The table shows five at first: those the sweep varies (swept), then loss, head, model, ...
FIRST = ("loss", "head", "model", "hidden", "lr", "optimizer", "init_scale", "dataset", "seed")


def choices() -> dict[str, tuple[str, ...]]:
    """Hyperparameters with a fixed set of values (a discrete domain: a filter of checkboxes):
    the schema's, and the losses, optimizers, datasets and init schemes registered when it is
    asked (their registries)."""
    return {"loss": tuple(losses.LOSSES), "head": heads.HEADS, "model": schema.MODELS,
            "optimizer": tuple(optim.OPTIMIZERS), "dataset": tuple(data.DATASETS),
            "activation": schema.ACTIVATIONS, "init": tuple(models.INITS)}


# free text: a list of sizes (e.g. "[32]"), an option that may be unset ("None"); every other
# one is a number
TEXT = ("hidden", "train_limit", "label", "features", "data_sha256")  # (dataset=file)
ORDER = FIRST + tuple(p for p in schema.PARAMS if p not in FIRST)

# The HParams table's metrics: the last value of each tag in the run.
METRICS = (("test/accuracy", "final test accuracy"), (STEPS_TO_TARGET, "steps to target"),
           ("test/ce", "final test CE"), ("test/mse", "final test MSE"))

# Custom Scalars: one category per question, one multiline chart per tag that a pattern
# matches (each selected run is one line: CE against MSE on one chart), in this order. The
# output layer comes first, so that logistic regression's layout ([output]) and an MLP's
# ([output, layer1, ...]) merge in the same order whichever run TensorBoard reads first.
# The validation split's tags (dataset.val_fraction) come between test's and train's.
CATEGORIES = (
    ("accuracy", ("test/accuracy", "val/accuracy", "train/accuracy")),
    ("evaluation cross-entropy", ("test/ce", "val/ce", "train/ce")),
    ("evaluation squared error", ("test/mse", "val/mse", "train/mse")),
    ("calibration (ECE, Brier)", ("test/ece", "test/brier", "val/ece", "val/brier", "train/ece",
                                  "train/brier")),
    ("gradient ratio: squared error's |dL/dz| over cross-entropy's (mean, 10th percentile; "
     "at a uniform output 1/K for softmax, 1/4 for sigmoid; below it: saturation)",
     ("test/grad_ratio", "test/grad_ratio_q10", "val/grad_ratio", "val/grad_ratio_q10",
      "train/grad_ratio", "train/grad_ratio_q10", "grad_ratio_uniform")),
    ("gradient norm per layer", (r"grad_norm/output\..*", r"grad_norm/.*")),
    ("|dL/dz| and saturation", (r"output/.*",)),
)


def hparam_name(param: str) -> str:
    """The name TensorBoard knows a hyperparameter by: its rank in :data:`ORDER`, then itself
    (``"01 loss"``), so that TensorBoard's sort by name keeps the declared order."""
    return f"{ORDER.index(param) + 1:02d} {param}"


def _summary(tag: str, plugin: str, content: bytes, tensor: TensorProto) -> Summary:
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=plugin,
                                                                   content=content))
    return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=tensor)])


def _hparams(tag: str, data: plugin_data_pb2.HParamsPluginData) -> Summary:
    data.version = hparams_metadata.PLUGIN_DATA_VERSION
    return _summary(tag, hparams_metadata.PLUGIN_NAME, data.SerializeToString(),
                    hparams_metadata.NULL_TENSOR)


def _hparam_info(param: str) -> api_pb2.HParamInfo:
    info = api_pb2.HParamInfo(name=hparam_name(param), display_name=param)
    domain = choices().get(param)
    if domain:
        Discrete(list(domain)).update_hparam_info(info)
    else:
        info.type = api_pb2.DATA_TYPE_STRING if param in TEXT else api_pb2.DATA_TYPE_FLOAT64
    return info


# Config keys that name a param other than by schema.PARAMS: a group (``model=mlp``: its name),
# the head+loss pair, the seeds.
_KEY_PARAMS = {**{key: name for name, key in schema.PARAMS.items()},
               **{group: group for group in ("dataset", "model", "loss", "optimizer")},
               "model.head": "head", "seeds": "seed"}


def _params_of(key: str, values: Iterable[str]) -> set[str]:
    """The params an override of ``key`` to these values changes: ``pair`` its head and its
    loss (each only where the values differ in it, when there are several)."""
    values = list(values)
    if key == "pair":
        parts = [v.split("_", 1) for v in values if "_" in v]
        return {p for i, p in enumerate(("head", "loss"))
                if len(values) == 1 or len({part[i] for part in parts}) > 1}
    return {_KEY_PARAMS[key]} if key in _KEY_PARAMS else set()


def swept(experiment: str, overrides: Iterable[str], seeds: Iterable[int]) -> frozenset[str]:
    """The params a run's sweep varies, as the run itself can know them: the keys with more
    than one value in ``experiments/<experiment>.yaml``'s sweep, every key its command line
    set (``overrides``, the job's own: Hydra hands a sweep's job one value of each swept key,
    so ``loss=ce`` of ``-m loss=ce,mse`` counts, as does a key set to one value for the
    whole sweep), and ``seed`` when the job trains more than one. The same for every job of
    one sweep."""
    grid = tree.sweep_grid(experiment)[0] if experiment in tree.named_experiments() else {}
    out = {p for key, values in grid.items() if len(values) > 1 for p in _params_of(key, values)}
    ignored = ("experiment", *schema.NOT_IN_HASH)
    for key, value in tree.assignments(overrides).items():
        if key not in grid and key not in ignored and not key.startswith("hydra"):
            out |= _params_of(key, [value])
    if len(list(seeds)) > 1:
        out.add("seed")
    return frozenset(out & set(ORDER))


def experiment(differs: Iterable[str] = ()) -> Summary:
    """The HParams experiment: every hyperparameter in :data:`ORDER` with its domain, those
    in ``differs`` (:func:`swept`) marked so, and the metrics in :data:`METRICS`. The same
    bytes in every run of a sweep (no creation time)."""
    differs = set(differs)
    unknown = differs - set(ORDER)
    if unknown:
        raise ValueError(f"differs={sorted(unknown)}: not hyperparameters; choose from {ORDER}")
    infos = [_hparam_info(p) for p in ORDER]
    for param, info in zip(ORDER, infos, strict=True):
        info.differs = param in differs
    exp = api_pb2.Experiment(
        hparam_infos=infos,
        metric_infos=[api_pb2.MetricInfo(name=api_pb2.MetricName(tag=tag), display_name=shown)
                      for tag, shown in METRICS])
    return _hparams(hparams_metadata.EXPERIMENT_TAG,
                    plugin_data_pb2.HParamsPluginData(experiment=exp))


def session_start(params: dict) -> Summary:
    """One run's hyperparameter values (``params``: every name in :data:`ORDER`), under the
    experiment's names. No group name: each run is a session group of its own."""
    start = plugin_data_pb2.SessionStartInfo(start_time_secs=time.time())
    discrete = choices()
    for param in ORDER:
        value = params[param]
        if param in discrete or param in TEXT:
            start.hparams[hparam_name(param)].string_value = str(value)
        else:
            start.hparams[hparam_name(param)].number_value = float(value)
    return _hparams(hparams_metadata.SESSION_START_INFO_TAG,
                    plugin_data_pb2.HParamsPluginData(session_start_info=start))


def session_end() -> Summary:
    """The run's session ended (finished or diverged); the HParams table says Success."""
    end = plugin_data_pb2.SessionEndInfo(status=api_pb2.STATUS_SUCCESS, end_time_secs=time.time())
    return _hparams(hparams_metadata.SESSION_END_INFO_TAG,
                    plugin_data_pb2.HParamsPluginData(session_end_info=end))


def layout(tags: list[str]) -> Summary:
    """The Custom Scalars layout of a run that logs ``tags``: :data:`CATEGORIES`, each with a
    chart per tag it matches (by pattern, then in the order of ``tags``, each tag once); empty
    categories left out."""
    categories = []
    for title, patterns in CATEGORIES:
        matching = dict.fromkeys(t for p in patterns for t in tags if re.fullmatch(p, t))
        charts = [layout_pb2.Chart(title=t, multiline=layout_pb2.MultilineChartContent(
            tag=[f"^{re.escape(t)}$"])) for t in matching]
        if charts:
            categories.append(layout_pb2.Category(title=title, chart=charts))
    tensor = TensorProto(dtype="DT_STRING", tensor_shape=TensorShapeProto(),
                         string_val=[layout_pb2.Layout(category=categories).SerializeToString()])
    return _summary(layout_metadata.CONFIG_SUMMARY_TAG, layout_metadata.PLUGIN_NAME, b"", tensor)


# The question's comparison (comparison_url): these tags, pinned in this order.
COMPARED = ("test/accuracy", "test/ce", "test/mse")


def loss_group() -> str:
    """A regex whose one group is a run name's loss (its ``<head>_<loss>/`` segment, any
    registered head and loss): TensorBoard colours the runs by what it captures."""
    return f"(?:^|/)(?:{'|'.join(heads.HEADS)})_({'|'.join(losses.LOSSES)})/"


def comparison_url(base: str = "http://localhost:6006", tags: Iterable[str] = COMPARED) -> str:
    """The Time Series link that opens on the comparison: one colour per loss (every seed and
    configuration of a loss alike), no smoothing, and ``tags`` the only cards shown (the tag
    filter; cleared, they stay pinned above the rest). Any ``--logdir`` whose run names hold
    the ``<head>_<loss>/`` folder
    (:func:`ce_vs_mse.store.layout.run_name`): a seed's runs or the report's aggregated ones."""
    tags = list(tags)
    query = {"runColorGroup": f"regex:{loss_group()}", "smoothing": "0",
             "pinnedCards": json.dumps([{"plugin": "scalars", "tag": t} for t in tags],
                                       separators=(",", ":")),
             "tagFilter": f"^({'|'.join(re.escape(t) for t in tags)})$"}
    # what a terminal and a browser take literally stays readable; the rest is escaped
    query = urlencode(query, quote_via=lambda v, *_: quote(v, safe="/:,()$"))
    return f"{base.rstrip('/')}/?{query}#timeseries"
