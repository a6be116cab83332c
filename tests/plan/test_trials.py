"""Trial specs: what a worker trains and the store writes, read back the same; the graph key fastfit and the
estimate share."""

import json
import pickle

import pytest

from study.declare.config import Settings
from study.declare.spec import Profile, Study, experiment
from study.errors import ConfigError
from study.plan.trials import DatasetInfo, TrialSpec, graph_key, plan_study, trial_key

PROFILE = Profile("test", seeds=None, epochs=None, train_size=None, test_size=None)
SMALL = Settings(epochs=2, conv_filters=(4, 6), dense_units=16, learning_rate=0.1)
# The keys of the stored configuration JSON (trials.config, planned.config) since the first store.
STORED_KEYS = {
    "key",
    "settings",
    "model",
    "dataset",
    "fingerprint",
    "train_size",
    "test_size",
    "data_seed",
    "seed",
    "macs",
    "expected_params",
}


def _trials():
    study = Study("t", SMALL, (experiment("kernel", "kernel_size", [3, 5]),), seeds=(1, 2))
    infos = {
        name: DatasetInfo(name, shape, 10, "f" * 16, 256, None, 0)
        for name, shape in (("mnist", (28, 28, 1)), ("cifar10", (32, 32, 3)))
    }
    return plan_study(study, PROFILE, infos)[0]


def test_a_spec_survives_json_and_pickle_and_keeps_the_stored_keys():
    for trial in _trials().values():
        spec = trial.spec
        stored = json.loads(json.dumps(spec.to_dict(), sort_keys=True))
        assert set(stored) == STORED_KEYS
        assert TrialSpec.from_dict(stored) == spec and pickle.loads(pickle.dumps(spec)) == spec
        assert (stored["key"], stored["macs"], stored["expected_params"]) == (
            trial.key,
            trial.macs,
            trial.params,
        )


def test_the_key_of_a_spec_is_the_trial_key_of_its_fields():
    for trial in _trials().values():
        assert trial.spec.key == trial_key(trial.settings, trial.model, trial.dataset, trial.seed)


def test_from_dict_ignores_keys_it_does_not_know_and_names_those_missing():
    stored = next(iter(_trials().values())).spec.to_dict()
    assert TrialSpec.from_dict({**stored, "written_by": "a later version"}) == TrialSpec.from_dict(
        stored
    )
    with pytest.raises(ConfigError, match=r"lacks fingerprint, expected_params$"):
        TrialSpec.from_dict(
            {k: v for k, v in stored.items() if k not in ("fingerprint", "expected_params")}
        )


def test_graph_key_ignores_what_is_set_per_trial_and_sees_the_architecture_and_optimiser():
    model = SMALL.model_config((28, 28, 1), 10)
    per_trial = SMALL.with_values(learning_rate=0.01, batch_size=16, initializer="he_normal")
    assert graph_key(per_trial, per_trial.model_config((28, 28, 1), 10)) == graph_key(SMALL, model)
    assert graph_key(SMALL.with_values(optimizer="adam"), model) != graph_key(SMALL, model)
    wider = SMALL.with_values(dense_units=32)
    assert graph_key(wider, wider.model_config((28, 28, 1), 10)) != graph_key(SMALL, model)
