"""dataset=file: a CSV, Parquet or .npz file of the user's, from scikit-learn's wine data, read
into the numbers the file holds, its labels mapped to classes in sorted order (recorded in
config.yaml); trained through the real CLI; the run's hash follows the file's bytes, not its
name, and its folder is named after the file's stem, one folder deep. (Every bad file's
one-line error is in the bad-values table of tests/config/test_configs.py.)"""

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import WINE_NAMES, cli, wine_frame, write_bad_files

from ce_vs_mse.config import tree as config_tree
from ce_vs_mse.core import data
from ce_vs_mse.store import layout

FEATURES = [c for c in wine_frame().columns if c != "target"]
CLASSES = sorted(WINE_NAMES.values())  # barbera, barolo, grignolino


@pytest.fixture
def files(tmp_path):
    wine = wine_frame()
    folder = tmp_path / "in" / "my data"
    folder.mkdir(parents=True)
    wine.to_csv(folder / "wine.csv", index=False)
    wine.to_parquet(folder / "wine.parquet")
    np.savez(folder / "wine.npz", X=wine[FEATURES].to_numpy(),
             y=wine["target"].to_numpy().astype(str))
    return folder


def _cfg(path, *overrides):
    label = [] if str(path).endswith(".npz") else ["dataset.label=target"]
    return config_tree.compose("dataset=file", f"dataset.path={path}", *label,
                               "dataset.standardize=false", *overrides)


@pytest.mark.parametrize("name", ["wine.csv", "wine.parquet", "wine.npz"])
def test_each_format_reads_the_files_numbers_and_maps_labels_in_sorted_order(files, name):
    d = data.load(_cfg(files / name, "dataset.val_fraction=0.2").dataset)
    wine = wine_frame()
    x = np.concatenate([d.x_train, d.x_val, d.x_test]).astype(np.float64)
    y = np.concatenate([d.y_train, d.y_val, d.y_test])
    assert len(x) == 178 and d.n_features == 13 and d.n_classes == 3
    # every row of the file is one example, its label the sorted index of its cultivar's name
    want = wine[FEATURES].to_numpy()
    order, got = np.lexsort(want.T[::-1]), np.lexsort(x.T[::-1])
    np.testing.assert_allclose(x[got], want[order], rtol=1e-6)
    names = wine["target"].to_numpy()[order]
    assert [CLASSES[k] for k in y[got]] == list(names)
    assert data.file_classes(str(files / name), None if name.endswith("npz") else "target") \
        == CLASSES


def _rows(d) -> np.ndarray:
    """Every example of a load, as rows sorted lexicographically."""
    x = np.concatenate([d.x_train, d.x_test]).astype(np.float64)
    return x[np.lexsort(x.T[::-1])]


def test_features_choose_columns_and_npz_arrays_join_side_by_side(files, tmp_path):
    wine = wine_frame()
    want = wine[["proline", "ash"]].to_numpy()
    d = data.load(_cfg(files / "wine.csv", "dataset.features=[proline,ash]").dataset)
    np.testing.assert_allclose(_rows(d), want[np.lexsort(want.T[::-1])], rtol=1e-6)
    np.savez(tmp_path / "two.npz", a=wine[["ash"]].to_numpy(), b=wine["proline"].to_numpy(),
             labels=wine["target"].to_numpy().astype(str))
    d2 = data.load(_cfg(tmp_path / "two.npz", "dataset.features=[b,a]",
                        "dataset.label=labels").dataset)
    np.testing.assert_allclose(_rows(d2), _rows(d), rtol=1e-6)  # (N,) and (N, 1) side by side
    assert d2.n_classes == 3


def test_the_hash_follows_the_bytes_not_the_name_and_the_folder_is_one_level(files, tmp_path):
    csv = files / "wine.csv"
    copy = tmp_path / "elsewhere" / "renamed.csv"
    copy.parent.mkdir()
    shutil.copy(csv, copy)
    other = tmp_path / "wine_b.csv"
    wine_frame().iloc[::-1].to_csv(other, index=False)  # the same rows in another order
    a, same, b = (_cfg(p) for p in (csv, copy, other))
    assert layout.config_hash(a) == layout.config_hash(same) != layout.config_hash(b)
    assert a.dataset.sha256 == hashlib.sha256(csv.read_bytes()).hexdigest()
    names = [layout.run_name(c, "softmax") for c in (a, same, b)]
    assert [n.split("/")[1] for n in names] == ["wine-mlp_32", "renamed-mlp_32", "wine_b-mlp_32"]
    assert all(n.count("/") == 2 for n in names)  # head_loss/data-model/leaf: never deeper
    # a label column with a slash in its name stays in one folder name
    slash = tmp_path / "slash.csv"
    wine_frame().rename(columns={"target": "a/b"}).to_csv(slash, index=False)
    name = layout.run_name(_cfg(slash, "dataset.label=a/b"), "softmax")
    assert name.count("/") == 2 and "label=a_b" in name
    # the same path with new bytes is a new run
    before = layout.config_hash(a)
    wine_frame().iloc[:150].to_csv(csv, index=False)
    assert layout.config_hash(_cfg(csv)) != before


def test_csv_and_parquet_train_through_the_cli_into_their_own_folders(files, tmp_path):
    runs = tmp_path / "runs"
    for name in ("wine.csv", "wine.parquet"):
        cli("dataset=file", f"dataset.path={files / name}", "dataset.label=target",
            "trainer.epochs=3", "seeds=[0,1]", f"results_dir={runs}", cwd=tmp_path)
    folders = sorted(p.parent for p in runs.glob("default/*/*/*/seed=*/summary.json"))
    assert [p.relative_to(runs / "default").parts[:2] for p in folders[::2]] == [
        ("softmax_ce", "wine-mlp_32")] * 2
    assert len({p.parent.name.rsplit("-", 1)[1] for p in folders}) == 2  # two files, two hashes
    for folder in folders:
        summary = json.loads((folder / "summary.json").read_text())
        config = yaml.safe_load((folder / "config.yaml").read_text())
        assert summary["status"] == "done" and summary["final"]["test/accuracy"] > 0.8
        path = config["dataset"]["path"]
        assert config["dataset"]["classes"] == CLASSES  # class k is CLASSES[k]
        assert summary["params"]["data_sha256"] == config["dataset"]["sha256"] == \
            hashlib.sha256(Path(path).read_bytes()).hexdigest()
        assert summary["params"]["label"] == "target"
        assert folder.parent.name.endswith(f"-{summary['config_hash']}")


@pytest.mark.parametrize("multirun", [False, True], ids=["run", "sweep"])
def test_a_bad_file_is_one_line_from_the_cli_and_nothing_is_trained(tmp_path, multirun):
    bad = write_bad_files(tmp_path / "data")
    args = ["dataset=file", f"dataset.path={bad / 'holes.csv'}", "dataset.label=target",
            f"results_dir={tmp_path / 'runs'}"]
    proc = cli(*(["-m", *args, "optimizer.lr=0.1,0.5"] if multirun else args), cwd=tmp_path,
               check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "holes.csv has missing" in line]
    assert len(lines) == 1, proc.stderr  # a sweep's jobs that share a reason: one line
    assert lines[0].startswith("ce-vs-mse: error: holes.csv" if not multirun
                               else "  all 2 jobs: holes.csv")
    assert not (tmp_path / "runs").exists()


def test_the_files_keys_are_in_its_hash_and_in_no_other_datasets(files):
    """A file run's hash holds its label, features and digest, each recorded as a param (the
    runtime path and the derived classes are not); a built-in dataset's hash holds none of
    them, so that the runs trained before dataset=file existed keep their hashes."""
    from ce_vs_mse.config import schema

    cfg = _cfg(files / "wine.csv")
    hashed = {key for key, _ in schema.leaves(schema.content(cfg))}
    assert set(schema.FILE_ONLY) <= hashed
    assert hashed - set(schema.PARAMS.values()) == set(schema.PARAMS_LEAVE_OUT)
    assert set(schema.KEYS) - hashed == set(schema.NOT_IN_HASH)
    digits = config_tree.compose("dataset=digits")
    assert not set(schema.FILE_ONLY) & {k for k, _ in schema.leaves(schema.content(digits))}
