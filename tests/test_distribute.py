"""Tests of nntrain.distribute: the choice of hardware, its one-line report, batch scaling,
trimming, data-parallel training on two logical CPUs (in a subprocess: the devices must be
configured before the backend starts), and a clear fallback for every failed TPU step."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

import keras
import pytest

import nntrain as nt
from nntrain import distribute

BACKEND = keras.backend.backend()
tensorflow_only = pytest.mark.skipif(BACKEND != "tensorflow", reason="TensorFlow's TPU route")
jax_only = pytest.mark.skipif(BACKEND != "jax", reason="JAX's TPU route")

TF_TPU_STEPS = (
    ("tf.distribute.cluster_resolver", "TPUClusterResolver"),
    ("tf.config", "experimental_connect_to_cluster"),
    ("tf.tpu.experimental", "initialize_tpu_system"),
    ("tf.distribute", "TPUStrategy"),
)
TPU_REPLICAS = 8  # a TPU v2-8 or v3-8 board: 8 cores


@pytest.fixture(scope="module")
def digits():
    return nt.data.load("digits", profile="smoke")


# --- this machine: one CPU -------------------------------------------------------------


def test_one_cpu_needs_no_distribution(capsys, digits):
    st = distribute.strategy()
    out = capsys.readouterr().out
    assert out == "nntrain.distribute: CPU, 1 replica (%s, one device)\n" % BACKEND
    assert (st.kind, st.backend, st.devices, st.native, st.fallbacks) == ("cpu", BACKEND, ("cpu:0",), None, ())
    assert st.num_replicas == 1 and st.scale_batch_size(64) == 64
    assert st.trim(digits) is digits
    assert distribute.accelerator() == "cpu"
    with st.scope():  # a no-op: the model builds as anywhere else
        model = nt.models.mlp(digits.input_shape, seed=0)
    assert model.built


def test_a_missing_gpu_falls_back_to_the_cpu_and_says_so(capsys):
    st = distribute.strategy("gpu")
    line = capsys.readouterr().out
    assert st.kind == "cpu" and line.count("\n") == 1
    assert "GPU" in st.fallbacks[0] and "falling back" in st.fallbacks[0]
    assert st.fallbacks[0] in line


def test_bad_input():
    with pytest.raises(ValueError, match=r"`kind` must be one of .*Received: kind='fpga'"):
        distribute.strategy("fpga")
    st = distribute.strategy(verbose=False)
    with pytest.raises(ValueError, match=r"`batch_size` must be a positive integer. Received: batch_size=0"):
        st.scale_batch_size(0)
    with pytest.raises(ValueError, match=r"Received: batch_size=True"):
        st.scale_batch_size(True)
    with pytest.raises(ValueError, match=r"`data` must be an nntrain Dataset.*Received: data=\[1, 2\]"):
        st.trim([1, 2])


def test_trim_cuts_every_split_to_a_multiple_of_the_replicas(digits):
    st = distribute.Strategy("tpu", BACKEND, tuple(f"tpu:{i}" for i in range(TPU_REPLICAS)))
    assert st.scale_batch_size(64) == 512
    trimmed = st.trim(digits)
    for split, (x, y) in trimmed.splits().items():
        n = len(digits.splits()[split][0])
        assert len(x) == len(y) == n - n % TPU_REPLICAS
        assert (x == digits.splits()[split][0][: len(x)]).all()
    assert trimmed.notes[-1].startswith(f"trimmed to multiples of {TPU_REPLICAS} examples")


def test_the_machine_can_say_it_has_a_tpu(monkeypatch):
    monkeypatch.setenv("TPU_NAME", "local")
    assert distribute.accelerator() == "tpu"


# --- TPU set-up: every failing step falls back, with a message naming it ---------------


class _FakeTPUStrategy:
    num_replicas_in_sync = TPU_REPLICAS

    def __init__(self, *args, **kwargs):
        pass

    def scope(self):
        return contextlib.nullcontext()


def _patch_tensorflow_tpu(monkeypatch, failing: str | None):
    """Replace TensorFlow's four TPU steps by fakes that succeed, except ``failing``."""
    import tensorflow as tf

    fakes = {"TPUClusterResolver": lambda **kwargs: object(),
             "experimental_connect_to_cluster": lambda resolver: None,
             "initialize_tpu_system": lambda resolver: None,
             "TPUStrategy": _FakeTPUStrategy}
    for module, name in TF_TPU_STEPS:
        target = tf
        for part in module.split(".")[1:]:
            target = getattr(target, part)
        fake = fakes[name]
        if name == failing:
            def fake(*args, _name=name, **kwargs):
                raise RuntimeError(f"simulated failure of {_name}\nsecond line")
        monkeypatch.setattr(target, name, fake)


@tensorflow_only
@pytest.mark.parametrize("failing", [name for _, name in TF_TPU_STEPS])
def test_every_failing_tensorflow_tpu_step_falls_back(monkeypatch, capsys, failing):
    _patch_tensorflow_tpu(monkeypatch, failing)
    st = distribute.strategy("tpu")
    line = capsys.readouterr().out
    assert st.kind == "cpu" and st.num_replicas == 1 and line.count("\n") == 1
    message = st.fallbacks[0]
    assert f"TPU step `" in message and failing in message
    assert f"(RuntimeError: simulated failure of {failing})" in message  # the first line only
    assert "KERAS_BACKEND=jax" in message and message in line


@tensorflow_only
def test_a_working_tensorflow_tpu_is_chosen(monkeypatch, capsys):
    _patch_tensorflow_tpu(monkeypatch, failing=None)
    monkeypatch.setenv("TPU_NAME", "local")
    st = distribute.strategy()  # auto: the machine says it has a TPU
    assert capsys.readouterr().out == (
        f"nntrain.distribute: TPU, {TPU_REPLICAS} replicas (tensorflow, _FakeTPUStrategy)\n")
    assert st.kind == "tpu" and st.num_replicas == TPU_REPLICAS and not st.fallbacks
    assert isinstance(st.native, _FakeTPUStrategy)
    assert st.scale_batch_size(32) == 32 * TPU_REPLICAS


def _patch_jax_tpu(monkeypatch, failing: str | None):
    real_list_devices = keras.distribution.list_devices

    def list_devices(device_type=None):
        if device_type != "tpu":
            return real_list_devices(device_type)
        if failing == "list_devices":
            raise RuntimeError("simulated failure of list_devices")
        return [f"tpu:{i}" for i in range(TPU_REPLICAS)]

    class DataParallel(_FakeTPUStrategy):
        def __init__(self, devices=None):
            if failing == "DataParallel":
                raise RuntimeError("simulated failure of DataParallel")
            self.devices = devices

    monkeypatch.setattr(keras.distribution, "list_devices", list_devices)
    monkeypatch.setattr(keras.distribution, "DataParallel", DataParallel)


@jax_only
@pytest.mark.parametrize("failing", ["list_devices", "DataParallel"])
def test_every_failing_jax_tpu_step_falls_back(monkeypatch, capsys, failing):
    _patch_jax_tpu(monkeypatch, failing)
    st = distribute.strategy("tpu")
    line = capsys.readouterr().out
    assert st.kind == "cpu" and st.num_replicas == 1 and line.count("\n") == 1
    assert f"keras.distribution.{failing}" in st.fallbacks[0]
    assert f"(RuntimeError: simulated failure of {failing})" in st.fallbacks[0]


@jax_only
def test_a_working_jax_tpu_is_chosen(monkeypatch, capsys):
    _patch_jax_tpu(monkeypatch, failing=None)
    monkeypatch.setenv("TPU_NAME", "local")
    st = distribute.strategy()
    assert capsys.readouterr().out == (
        f"nntrain.distribute: TPU, {TPU_REPLICAS} replicas (jax, DataParallel)\n")
    assert st.devices == tuple(f"tpu:{i}" for i in range(TPU_REPLICAS))
    assert st.native.devices == list(st.devices)


# --- two logical CPUs, for real, in a fresh process ------------------------------------

# Splits the CPU into two logical devices before the backend starts, then trains the same
# model on the same data once on two replicas and once on one device, and tries a TPU that
# is not there.
_TWO_CPUS = r"""
import contextlib, json, os, sys
if os.environ["KERAS_BACKEND"] == "tensorflow":
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras, numpy as np
import nntrain as nt
from nntrain import distribute

nt.setup(0, "smoke")
st = distribute.strategy()
data = st.trim(nt.data.load("digits", profile="smoke"))
batch_size = st.scale_batch_size(32)

def fit(scope):
    with scope:
        model = nt.models.mlp(data.input_shape, seed=0)
        run = nt.train(model, data, nt.optimizers.SGD(learning_rate=0.1), epochs=2,
                       batch_size=batch_size, seed=0, verbose=0)
    return model, run

model, run = fit(st.scope())
kernel = model.weights[0].value
if st.backend == "tensorflow":
    replicas_holding_a_kernel = len(getattr(kernel, "values", [kernel]))
else:
    replicas_holding_a_kernel = len(kernel.sharding.device_set)
if st.backend == "tensorflow":
    # nt.train hands tf.distribute the arrays and lets Keras shuffle them (a Python stream
    # of batches would hide the batch size it splits): the same fit on one device.
    single = nt.models.mlp(data.input_shape, seed=0)
    keras.utils.set_random_seed(0)
    nt.models.compile_for(single, data, nt.optimizers.SGD(learning_rate=0.1))
    single_history = single.fit(data.x_train, data.y_train, batch_size=batch_size, epochs=2,
                                validation_data=(data.x_val, data.y_val), verbose=0).history
else:
    single, single_run = fit(contextlib.nullcontext())  # Keras's own placement: one device
    single_history = single_run.history
tpu = distribute.strategy("tpu")
print(json.dumps({
    "kind": st.kind, "replicas": st.num_replicas, "native": type(st.native).__name__,
    "report": str(st), "batch_size": batch_size,
    "sizes": [len(x) for x, _ in data.splits().values()], "note": data.notes[-1],
    "replicas_holding_a_kernel": replicas_holding_a_kernel,
    "max_weight_difference": max(float(np.max(np.abs(a - b)))
                                 for a, b in zip(model.get_weights(), single.get_weights())),
    "loss": run.history["loss"].tolist(), "single_loss": list(single_history["loss"]),
    "tpu_kind": tpu.kind, "tpu_replicas": tpu.num_replicas, "tpu_fallbacks": list(tpu.fallbacks),
}))
"""


@pytest.fixture(scope="module")
def two_cpus():
    env = dict(os.environ, KERAS_BACKEND=BACKEND, NNTRAIN_PROFILE="smoke")
    if BACKEND == "jax":
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2").strip()
    done = subprocess.run([sys.executable, "-c", _TWO_CPUS], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_cpus_make_two_replicas(two_cpus):
    native = "MirroredStrategy" if BACKEND == "tensorflow" else "DataParallel"
    assert (two_cpus["kind"], two_cpus["replicas"], two_cpus["native"]) == ("cpu", 2, native)
    assert two_cpus["report"] == f"nntrain.distribute: CPU, 2 replicas ({BACKEND}, {native})"
    assert two_cpus["batch_size"] == 64
    assert all(n % 2 == 0 for n in two_cpus["sizes"])
    assert two_cpus["note"].startswith("trimmed to multiples of 2 examples for 2 replicas")


def test_the_model_built_in_the_scope_lives_on_both_replicas(two_cpus):
    assert two_cpus["replicas_holding_a_kernel"] == 2


def test_two_replicas_train_like_one_device_on_the_global_batch(two_cpus):
    # Averaging the two half-batch gradients is the gradient of the whole batch: the runs
    # differ only by the order of float additions.
    assert two_cpus["max_weight_difference"] < 1e-5
    assert two_cpus["loss"] == pytest.approx(two_cpus["single_loss"], rel=1e-5)
    assert two_cpus["loss"][1] < two_cpus["loss"][0]


def test_a_tpu_that_is_not_there_falls_back_to_the_two_cpus(two_cpus):
    assert (two_cpus["tpu_kind"], two_cpus["tpu_replicas"]) == ("cpu", 2)
    assert two_cpus["tpu_fallbacks"][0].startswith("TPU step `")
