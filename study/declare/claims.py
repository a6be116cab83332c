"""The claims a study may declare: one class per kind of test, each with only the fields that kind accepts.

A claim is something a study sets out to check (e.g. a finding of an earlier report). Its class says what
the study file may write for it (its fields), what it checks (``meaning``), what it is about (``judged_at``:
final accuracy, learning speed, or the runs it names at their own budgets) and how a study file declares it
(``example``). The registry of kinds, ``CLAIM_KINDS``, is built from the subclasses themselves; a kind's check
lives in ``study.analyse.claims`` (registered against the class) and its words in ``study.report.claim_words``.

    Trend("A larger stride lowers accuracy.", "stride", ("mnist",), values=("1", "2", "3"),
          direction="decreasing")
    claim_from_dict({"text": ..., "test": "trend", ...})   # the study-file and stored form
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar

from study.errors import ConfigError


class JudgedAt(enum.StrEnum):
    """What a claim speaks of: the accuracy a network reaches (so a short budget tests it only where its budget
    check passed), its learning speed (judged at its own epoch), or the runs it names at their own budgets."""

    FINAL = "final"
    SPEED = "speed"
    BUDGETS = "budgets"


CLAIM_KINDS: dict[
    str, type[Claim]
] = {}  # test name -> class, filled by the subclasses as they are defined
BASE_KEYS = (
    "text",
    "test",
    "experiment",
    "datasets",
)  # every kind; ``scope`` (optional) comes last


@dataclass(frozen=True)
class Claim:
    """A claim in its own words, the experiment and datasets it is judged on, and the conditions it was made
    under (``scope``). A subclass per kind adds its own fields and checks them in ``validate``."""

    text: str
    experiment: str
    datasets: tuple[str, ...]
    scope: str = field(
        default="", kw_only=True
    )  # the conditions the claim was made under, in words

    kind: ClassVar[str] = ""  # the name a study file writes: test = "trend"
    judged_at: ClassVar[JudgedAt] = JudgedAt.FINAL
    meaning: ClassVar[str] = ""  # what the test checks, in one line (README and error messages)
    # the values it names may include the baseline's own setting (else a named value must differ from it)
    names_baseline: ClassVar[bool] = False
    against_baseline: ClassVar[bool] = (
        True  # compares values with the block's baseline (else with each other)
    )
    example: ClassVar[str] = ""  # the kind's own lines of a [[claims]] table (study-file syntax)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            if cls.kind in CLAIM_KINDS:
                raise TypeError(f"two claim classes for the test {cls.kind!r}")
            CLAIM_KINDS[cls.kind] = cls

    def __post_init__(self) -> None:
        if not self.datasets:
            raise ConfigError(f"claim {self.text!r}: needs at least one dataset")
        self.validate()

    def validate(self) -> None:
        """Raise one ConfigError line where the kind's own fields do not fit together."""

    def _fail(self, problem: str) -> None:
        raise ConfigError(f"claim {self.text!r} (test {self.kind!r}): {problem}")

    def _count(self, name: str, low: int, high: int | None = None) -> None:
        got = len(getattr(self, name))
        if got < low or (high is not None and got > high):
            wanted = f"exactly {low}" if high == low else f"at least {low}" if high is None else ""
            self._fail(f"{name} must list {wanted} value{'s' * (low != 1)}, got {got}")

    def _choice(self, name: str, accepted: tuple[str, ...]) -> None:
        if getattr(self, name) not in accepted:
            self._fail(f"{name} {getattr(self, name)!r} is not one of: {', '.join(accepted)}")

    @classmethod
    def own_fields(cls) -> tuple[str, ...]:
        base = {f.name for f in dataclasses.fields(Claim)}
        return tuple(f.name for f in dataclasses.fields(cls) if f.name not in base)

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The keys a study file's [[claims]] table of this kind accepts, in the order the README lists them."""
        return (*BASE_KEYS, *cls.own_fields(), "scope")

    @property
    def test(self) -> str:
        return self.kind

    @property
    def labels(self) -> tuple[str, ...]:
        """Every value label the claim names (checked against its experiment by ``Study``)."""
        return tuple(
            label
            for name in self.own_fields()
            if isinstance(getattr(self, name), tuple)
            for label in getattr(self, name)
        )

    @property
    def experiments(self) -> tuple[str, ...]:
        """The experiments the claim reads (checked against the study by ``Study``)."""
        return (self.experiment,)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "test": self.kind,
            "experiment": self.experiment,
        }
        data["datasets"] = list(self.datasets)
        for name in (*self.own_fields(), "scope"):
            value = getattr(self, name)
            data[name] = list(value) if isinstance(value, tuple) else value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Claim:
        return claim_from_dict(data)


def claim_kind(test: Any) -> type[Claim]:
    """The class of a test name; one ConfigError line listing the accepted ones (once) otherwise."""
    if test is None:
        raise ConfigError(f"missing key 'test'; accepted: {', '.join(CLAIM_KINDS)}")
    if not isinstance(test, str) or test not in CLAIM_KINDS:
        raise ConfigError(f"unknown test {test!r}; accepted: {', '.join(CLAIM_KINDS)}")
    return CLAIM_KINDS[test]


def claim_from_dict(data: dict[str, Any]) -> Claim:
    """A claim from its study-file or stored form (``test`` names the kind). A key the kind does not accept is
    one ConfigError line naming the accepted ones; an empty one is dropped (stores written before the kinds had
    their own fields carry every key, empty where unused)."""
    kind = claim_kind(data.get("test"))
    accepted = kind.keys()
    fields_: dict[str, Any] = {}
    for key, value in data.items():
        if key == "test":
            continue
        if key not in accepted:
            if value in ("", [], (), None):
                continue
            raise ConfigError(
                f"claim {data.get('text', '')!r}: test {kind.kind!r} takes no key {key!r}; accepted: "
                f"{', '.join(accepted)}"
            )
        fields_[key] = tuple(str(v) for v in value) if isinstance(value, (list, tuple)) else value
    needed = [
        f.name
        for f in dataclasses.fields(kind)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    for key in needed:
        if key not in fields_:
            raise ConfigError(
                f"claim {data.get('text', '')!r}: test {kind.kind!r} needs the key {key!r}"
            )
    return kind(**fields_)


@dataclass(frozen=True, kw_only=True)
class NoEffect(Claim):
    kind = "no_effect"
    meaning = "every listed value (default: all) is equivalent to the baseline"
    example = 'test = "no_effect"\nvalues = ["3"]'

    values: tuple[str, ...] = ()  # default: every value of the experiment


@dataclass(frozen=True, kw_only=True)
class Differs(Claim):
    kind = "differs"
    meaning = (
        "the first listed value differs from the baseline in `direction` (worse/better); the values in "
        "`equal` are equivalent to it"
    )
    example = 'test = "differs"\nvalues = ["1"]\ndirection = "worse"\nequal = ["3"]'

    values: tuple[str, ...]  # the one value said to differ
    direction: str = "worse"  # worse or better than the baseline
    equal: tuple[str, ...] = ()  # values said to be equivalent to the baseline

    def validate(self) -> None:
        self._count("values", 1, 1)
        self._choice("direction", ("worse", "better"))

    @property
    def target(self) -> str:
        return self.values[0]


@dataclass(frozen=True, kw_only=True)
class AnyDiffers(Claim):
    kind = "any_differs"
    meaning = "some value differs significantly from the baseline"
    example = 'test = "any_differs"'


@dataclass(frozen=True, kw_only=True)
class Trend(Claim):
    kind = "trend"
    meaning = (
        "accuracy follows the listed order of values (`direction` increasing/decreasing): Page's trend test, "
        "and no adjacent step significantly the wrong way"
    )
    against_baseline = False
    example = 'test = "trend"\nvalues = ["3", "5", "7"]\ndirection = "increasing"'

    values: tuple[str, ...]  # in the order the claim speaks of
    direction: str = "increasing"  # increasing or decreasing along ``values``

    def validate(self) -> None:
        self._count("values", 3)  # Page's L test needs three or more
        self._choice("direction", ("increasing", "decreasing"))


@dataclass(frozen=True, kw_only=True)
class DoesNotLearn(Claim):
    kind = "does_not_learn"
    meaning = "the listed values fail to learn (collapse rate above the baseline's, Boschloo)"
    example = 'test = "does_not_learn"\nvalues = ["7"]'

    values: tuple[str, ...]

    def validate(self) -> None:
        self._count("values", 1)


@dataclass(frozen=True, kw_only=True)
class FasterEarly(Claim):
    kind = "faster_early"
    judged_at = JudgedAt.SPEED
    meaning = (
        "after epoch 1, the first listed value is ahead of the second (paired t-test); with more values, "
        "accuracy after epoch 1 falls along the listed order (Page's trend test, no adjacent step "
        "significantly the wrong way)"
    )
    against_baseline = False
    example = 'test = "faster_early"\nvalues = ["3", "5"]'

    values: tuple[str, ...]  # from the fastest the claim names

    def validate(self) -> None:
        self._count("values", 2)


@dataclass(frozen=True, kw_only=True)
class CatchUp(Claim):
    kind = "catch_up"
    judged_at = JudgedAt.BUDGETS
    meaning = "the gap first minus second listed value shrinks from `experiment` to the longer run `other`"
    against_baseline = False
    example = 'test = "catch_up"\nvalues = ["3", "7"]\nother = "kernel_long"'

    values: tuple[str, ...]  # the two values whose gap closes
    other: str  # the longer run: an experiment with the same values

    def validate(self) -> None:
        self._count("values", 2, 2)
        if not self.other:
            self._fail("other must name the experiment of the longer run")

    @property
    def experiments(self) -> tuple[str, ...]:
        return (self.experiment, self.other)


@dataclass(frozen=True, kw_only=True)
class Interaction(Claim):
    kind = "interaction"
    meaning = "the spread of accuracy over the experiment's values is larger on the second dataset"
    against_baseline = False
    example = 'test = "interaction"\ndatasets = ["mnist", "cifar10"]'

    def validate(self) -> None:
        if len(self.datasets) != 2:
            self._fail(f"datasets must list exactly 2 datasets, got {len(self.datasets)}")


@dataclass(frozen=True, kw_only=True)
class LargestStable(Claim):
    kind = "largest_stable"
    judged_at = JudgedAt.BUDGETS
    meaning = (
        "the listed value is the largest of the experiment's values that learned in every seed on every "
        "listed dataset (checks a rule that chose an adaptation)"
    )
    example = 'test = "largest_stable"\nvalues = ["5"]'
    names_baseline = (
        True  # the chosen value may be the baseline's own (it reads every value's seeds)
    )

    values: tuple[str, ...]  # the one value the rule chose

    def validate(self) -> None:
        self._count("values", 1, 1)
