"""`study export --format tensorboard`: event files TensorBoard reads back, scalars and HParams included."""

import math

import numpy as np
import pytest
from conftest import made_up_spec

from study.plan.trials import PlanRow
from study.records import TrialResult
from study.results.store import Store
from study.results.tensorboard import CELL, export_tensorboard, hparam_value

pytestmark = pytest.mark.train  # the export writes TensorFlow event files


def _store(path):
    """Two planned trials: one learned over 3 epochs, one that diverged in epoch 2 (NaN loss)."""
    store = Store(path)
    rows = [
        PlanRow("lr", "lr", "0.1", 0, "mnist", 1, "k1", True, ""),
        PlanRow("kernel", "kernel_size", "5", 1, "mnist", 1, "k1", True, ""),
        PlanRow("lr", "lr", "5", 1, "mnist", 1, "k2", False, ""),
    ]
    configs = {
        key: made_up_spec(
            key, train_size=256, learning_rate=lr, conv_filters=(20, 50), optimizer="sgd"
        )
        for key, lr in (("k1", 0.1), ("k2", 5.0))
    }
    store.save_plan("s", "smoke", {}, rows, configs)
    ok = [
        {
            "epoch": e,
            "loss": 1.0 / e,
            "accuracy": 0.5 + e / 10,
            "val_loss": 1.1 / e,
            "val_accuracy": 0.4 + e / 10,
            "epoch_seconds": 2.0,
        }
        for e in (1, 2, 3)
    ]
    labels = np.arange(20, dtype=np.uint8) % 10
    store.save_test_set(configs["k1"].fingerprint, "mnist", np.arange(20), labels)
    predicted = labels.copy()
    predicted[3] = 5  # one of class 3's two images taken for a 5
    store.save_trial(
        configs["k1"],
        TrialResult("k1", epochs=ok, train_seconds=6.0, predictions=predicted.tobytes()),
    )
    bad = [ok[0], {**ok[1], "loss": math.nan, "val_loss": math.inf}]
    store.save_trial(
        configs["k2"],
        TrialResult("k2", status="diverged", diverged_epoch=2, epochs=bad, train_seconds=4.0),
    )
    return store


def _read(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder), size_guidance={"tensors": 0})
    events.Reload()
    return events


def test_export_writes_scalars_and_hparams_that_tensorboard_reads_back(tmp_path):
    import tensorflow as tf
    from tensorboard.plugins.hparams import plugin_data_pb2

    out = tmp_path / "tb"
    with _store(tmp_path / "s.sqlite") as store:
        assert export_tensorboard(store, out) == 2
    learned = _read(out / "mnist" / "kernel=5" / "seed1-k1")
    values = [
        (e.step, float(tf.make_ndarray(e.tensor_proto))) for e in learned.Tensors("val_accuracy")
    ]
    assert values == [(1, pytest.approx(0.5)), (2, pytest.approx(0.6)), (3, pytest.approx(0.7))]
    assert float(tf.make_ndarray(learned.Tensors("train_seconds")[0].tensor_proto)) == 6.0
    start = plugin_data_pb2.HParamsPluginData.FromString(
        learned.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    )
    hparams = start.session_start_info.hparams
    assert hparams["learning_rate"].number_value == pytest.approx(0.1)
    assert hparams["conv_filters"].string_value == "[20, 50]"
    assert (
        hparams["uses"].string_value == "kernel=5; lr=0.1"
        and hparams["dataset"].string_value == "mnist"
    )
    assert (
        hparams["outcome"].string_value == "learned"
    )  # the trial summary list, export and report read
    (image,) = learned.Tensors("confusion_matrix")
    png = tf.make_ndarray(image.tensor_proto)[2]  # width, height, then the encoded image
    pixels = tf.io.decode_png(png).numpy()[..., 0]
    cell = lambda row, column: pixels[row * CELL + 1, column * CELL + 1]  # noqa: E731
    assert pixels.shape == (10 * CELL, 10 * CELL)
    assert cell(0, 0) == 0 and cell(0, 1) == 255  # all of class 0 right: black, nothing else
    assert cell(3, 3) == cell(3, 5) == 128  # class 3: half right, half taken for a 5
    diverged = _read(out / "mnist" / "lr=5" / "seed1-k2")
    assert "confusion_matrix" not in diverged.Tags()["tensors"]  # no predictions kept
    assert [e.step for e in diverged.Tensors("loss")] == [
        1
    ]  # the NaN epoch is left out, not written as NaN
    assert [e.step for e in diverged.Tensors("val_accuracy")] == [1, 2]
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        _read(out).PluginTagToContent("hparams")["_hparams_/experiment"]
    )
    assert {m.name.tag for m in experiment.experiment.metric_infos} >= {
        "val_accuracy",
        "val_loss",
        "train_seconds",
    }
    assert {h.name for h in experiment.experiment.hparam_infos} >= {
        "learning_rate",
        "dataset",
        "seed",
        "uses",
    }


def test_export_replaces_its_own_folder_but_not_a_users(tmp_path):
    from study.errors import StudyError

    with _store(tmp_path / "s.sqlite") as store:
        export_tensorboard(store, tmp_path / "tb")
        assert (
            export_tensorboard(store, tmp_path / "tb") == 2
        )  # a rerun replaces the earlier export
        assert len(list((tmp_path / "tb").rglob("events.out.tfevents.*"))) == 3
        (tmp_path / "mine").mkdir()
        (tmp_path / "mine" / "notes.txt").write_text("keep")
        with pytest.raises(StudyError, match="is a folder with other files"):
            export_tensorboard(store, tmp_path / "mine")


def test_hparam_values_are_tensorboard_types():
    assert hparam_value(True) is True and hparam_value(("max", "max")) == '["max", "max"]'
