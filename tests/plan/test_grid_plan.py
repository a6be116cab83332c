"""A grid's two phases as plans: selection cells on the validation split, then the chosen cells compared."""

import numpy as np
import pytest

from study.declare.config import Settings
from study.declare.grid import Grid, GridRow
from study.declare.spec import Profile, Study, experiment, grid_experiment
from study.plan.data import Dataset, Location, hold_out
from study.plan.trials import SELECTION, DatasetInfo, plan_study

INFO = DatasetInfo("mnist", (28, 28, 1), 10, "f" * 16, 1000, 300, 0)
PROFILE = Profile("p", seeds=2, epochs=None, train_size=None, test_size=None)
BASELINE = Settings(learning_rate=0.05, epochs=2)
GRID = Grid(
    "optimizer",
    "learning_rate",
    (GridRow("sgd", (0.005, 0.05, 0.5)), GridRow("adam", (0.0001, 0.001, 0.01))),
)


def _study(grid: Grid = GRID) -> Study:
    return Study(
        "s",
        BASELINE,
        (
            grid_experiment("solver", grid, datasets=("mnist",)),
            experiment("kernel", "kernel_size", [3, 5], datasets=("mnist",)),
        ),
        seeds=(1, 2),
    )


def test_selection_rows_train_every_cell_on_the_validation_split_with_their_own_seeds():
    study = _study()
    trials, rows = plan_study(study, PROFILE, {"mnist": INFO}, selection_only=True)
    selection = [r for r in rows if r.phase == SELECTION]
    assert len(selection) == 6 * 2 and not any(r.is_baseline for r in selection)
    assert {r.seed for r in selection} == set(study.selection_seeds(2))
    assert all(trials[r.trial_key].settings.validation == 0.2 for r in selection)
    # selection_only: no comparison of the grid yet; the other experiments plan as always
    assert {r.experiment for r in rows if not r.phase} == {"kernel"}


def test_before_the_choice_the_confirmation_is_costed_at_the_usual_column():
    trials, rows = plan_study(_study(), PROFILE, {"mnist": INFO})
    confirmation = [r for r in rows if r.experiment == "solver" and not r.phase]
    settings = {r.value: trials[r.trial_key].settings for r in confirmation}
    assert (settings["sgd"].learning_rate, settings["adam"].learning_rate) == (0.05, 0.001)
    assert all("not chosen yet" in r.note for r in confirmation)


def test_the_chosen_cells_are_compared_on_fresh_seeds_and_the_test_images():
    study = _study().with_choices({("solver", "mnist"): (2, 0)})
    trials, rows = plan_study(study, PROFILE, {"mnist": INFO})
    confirmation = [r for r in rows if r.experiment == "solver" and not r.phase]
    by_value = {}
    for r in confirmation:
        by_value.setdefault(r.value, []).append(r)
    sgd, adam = by_value["sgd"], by_value["adam"]
    # the reference level's chosen cell is the block's baseline, with the baseline's seed count
    assert all(r.is_baseline for r in sgd) and not any(r.is_baseline for r in adam)
    assert [r.seed for r in sgd] == list(study.seeds_for(2, baseline=True))
    assert [r.seed for r in adam] == [1, 2]
    assert trials[sgd[0].trial_key].settings.learning_rate == 0.5
    assert trials[adam[0].trial_key].settings.learning_rate == 0.0001
    assert all(trials[r.trial_key].settings.validation == 0.0 for r in confirmation)
    assert (
        adam[0].note
        == "learning_rate 0.0001, chosen on the validation split (at the low edge of its grid)"
    )
    assert sgd[0].note.endswith("(at the high edge of its grid)")
    selection_seeds = {r.seed for r in rows if r.phase == SELECTION}
    assert not selection_seeds & {r.seed for r in confirmation}


def test_a_chosen_cell_at_the_baseline_shares_the_baselines_trials():
    study = _study().with_choices({("solver", "mnist"): (1, 1)})  # sgd at 0.05: the study baseline
    _, rows = plan_study(study, PROFILE, {"mnist": INFO})

    def keys(name: str, value: str) -> set[str]:
        return {r.trial_key for r in rows if r.experiment == name and r.value == value}

    assert keys("solver", "sgd") == keys("kernel", "5")


def _dataset(labels: np.ndarray, test_labels: np.ndarray) -> Dataset:
    images = np.arange(len(labels), dtype=np.float32).reshape(-1, 1, 1, 1)
    return Dataset(
        name="mnist",
        location=Location("mnist", "x", "idx"),
        x_train=images,
        y_train=labels,
        x_test=-np.ones((len(test_labels), 1, 1, 1), np.float32),
        y_test=test_labels,
        classes=tuple(str(c) for c in range(3)),
        full_sizes=(len(labels), len(test_labels)),
        fingerprint="f",
    )


def test_the_validation_split_is_stratified_fixed_by_the_data_seed_and_holds_no_test_image():
    labels = np.repeat(np.arange(3, dtype=np.int32), [50, 30, 20])
    data = _dataset(labels, np.zeros(7, np.int32))
    held = hold_out(data, 0.2, data_seed=0)
    assert len(held.y_test) == 20 and len(held.y_train) == 80
    assert np.bincount(held.y_test).tolist() == [10, 6, 4]  # the training subset's class shares
    assert (held.x_test >= 0).all()  # every validation image comes from the training subset
    together = np.concatenate([held.x_train.ravel(), held.x_test.ravel()])
    assert sorted(together.tolist()) == list(range(100))  # each training image in one split only
    assert np.array_equal(hold_out(data, 0.2, 0).x_test, held.x_test)  # the same split every time
    assert not np.array_equal(hold_out(data, 0.2, 1).x_test, held.x_test)
    assert hold_out(data, 0.0, 0) is data


@pytest.mark.parametrize("seed", [0, 3])
def test_the_test_labels_never_reach_the_validation_split(seed):
    labels = np.repeat(np.arange(3, dtype=np.int32), 20)
    a = hold_out(_dataset(labels, np.array([0, 1, 2, 0], np.int32)), 0.25, seed)
    b = hold_out(_dataset(labels, np.array([2, 2, 1, 0], np.int32)), 0.25, seed)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
