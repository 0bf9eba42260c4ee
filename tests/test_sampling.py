"""Task samplers of multi-task phases: jiant's formulas, seeded schedules, epochs, spec strings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stilts.errors import StiltsError
from stilts.experiment.specs import Sampler
from stilts.runtime.multitask.sampling import (
    TaskSchedule,
    capped_sizes,
    describe,
    epoch_steps,
    schedule,
    task_probabilities,
)

EXAMPLES, KINDS = Sampler.EXAMPLES, Sampler.KINDS


def parse_sampler(spec: str | dict) -> Sampler:
    return Sampler.parse(spec, option="--sampler")


def format_sampler(sampler: Sampler) -> str:
    return sampler.short()


AB = {"a": 100, "b": 400}
THREE = {"mnli": 392_702, "squad": 87_599, "hellaswag": 39_905}


def probs(spec: str, sizes: dict[str, int]) -> dict[str, float]:
    return task_probabilities(parse_sampler(spec), sizes)


# --- exact probabilities, by hand ------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "sizes", "expected"),
    [
        ("uniform", {"a": 100, "b": 400, "c": 7}, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}),
        ("proportional", AB, {"a": 0.2, "b": 0.8}),
        ("proportional:cap=200", AB, {"a": 1 / 3, "b": 2 / 3}),  # 100 : min(400, 200)
        ("proportional:cap=50", AB, {"a": 0.5, "b": 0.5}),  # both capped
        ("proportional:cap=1000", AB, {"a": 0.2, "b": 0.8}),  # cap above every size
        ("temperature:T=2", AB, {"a": 1 / 3, "b": 2 / 3}),  # sqrt: 10 : 20
        ("temperature:T=2,cap=200", AB, {"a": 10 / (10 + math.sqrt(200))}),  # 10 : sqrt(200)
        ("temperature:T=2,cap=100", AB, {"a": 0.5, "b": 0.5}),  # 10 : 10
        ("temperature:T=1", AB, {"a": 0.2, "b": 0.8}),  # T=1 is proportional
        ("temperature:T=0.5", AB, {"a": 1 / 17, "b": 16 / 17}),  # squares: 1e4 : 16e4
        ("probabilities:a=3,b=1", AB, {"a": 0.75, "b": 0.25}),  # weights are normalised
        ("probabilities:b=0.3,a=0.7", AB, {"a": 0.7, "b": 0.3}),
    ],
)
def test_probabilities_by_hand(spec, sizes, expected):
    got = probs(spec, sizes)
    assert list(got) == list(sizes)  # ordered as the sizes, whatever the spec's order
    for task, p in expected.items():
        assert got[task] == pytest.approx(p, rel=1e-12)
    assert math.fsum(got.values()) == pytest.approx(1.0, rel=1e-15)


def test_high_temperature_approaches_uniform():
    got = probs("temperature:T=1000", THREE)
    assert all(p == pytest.approx(1 / 3, abs=1e-3) for p in got.values())


@pytest.mark.parametrize("cap", [None, 1, 50_000, 10**9])
@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0, 5.0])
def test_temperature_matches_jiants_expression(temperature, cap):
    # nyu-mll/jiant, jiant/proj/main/components/task_sampler.py, TemperatureMultiTaskSampler:
    #   raw_n = task_num_examples.clip(max=examples_cap) ** (1 / temperature)
    #   task_p = raw_n / raw_n.sum()
    n = np.array(list(THREE.values()))
    raw_n = (n.clip(max=cap) if cap is not None else n) ** (1 / temperature)
    config = Sampler(kind="temperature", temperature=temperature, cap=cap)
    got = task_probabilities(config, THREE)
    np.testing.assert_allclose(list(got.values()), raw_n / raw_n.sum(), rtol=1e-12)


def test_capped_proportional_is_jiants_capped_configurator():
    # jiant's SimpleAPIMultiTaskConfigurator (jiant/proj/main/scripts/configurator.py) turns a
    # train_examples_cap into SpecifiedProbMultiTaskSampler over the capped sizes.
    capped = {task: min(n, 50_000) for task, n in THREE.items()}
    assert capped_sizes(parse_sampler("proportional:cap=50000"), THREE) == capped
    specified = Sampler(kind="probabilities", probabilities=capped)
    assert probs("proportional:cap=50000", THREE) == pytest.approx(
        task_probabilities(specified, THREE), rel=1e-12
    )
    assert probs("proportional:cap=50000", THREE) == pytest.approx(
        probs("temperature:T=1,cap=50000", THREE), rel=1e-12
    )


def test_a_single_task_gets_every_step():
    for spec in ("uniform", "proportional", "temperature:T=3", "probabilities:solo=2"):
        assert probs(spec, {"solo": 5}) == {"solo": 1.0}
        assert schedule(parse_sampler(spec), {"solo": 5}, 10, seed=0) == ["solo"] * 10


# --- schedules ---------------------------------------------------------------------------------

DRAWS = 200_000


@pytest.mark.parametrize(
    "spec",
    [
        "uniform",
        "proportional",
        "proportional:cap=50000",
        "temperature:T=2",
        "temperature:T=3,cap=60000",
        "probabilities:mnli=0.5,squad=0.3,hellaswag=0.2",
    ],
)
def test_empirical_shares_match_the_distribution(spec):
    config = parse_sampler(spec)
    expected = task_probabilities(config, THREE)
    drawn = TaskSchedule.draw(config, THREE, DRAWS, seed=7)
    counts = drawn.counts()
    assert list(counts) == list(THREE) and sum(counts.values()) == DRAWS
    for task, p in expected.items():
        standard_error = math.sqrt(p * (1 - p) / DRAWS)
        assert abs(counts[task] / DRAWS - p) <= 5 * standard_error, (task, counts, expected)


def test_a_seed_reproduces_the_exact_sequence():
    config = parse_sampler("proportional")
    sizes = {"a": 1, "b": 1, "c": 2}
    # Pinned: the same sequence on every machine (PCG64 doubles, searched in the CDF).
    assert schedule(config, sizes, 24, seed=1234) == list("cbcbbaabcbbccccccaacaccc")
    assert schedule(config, sizes, 1000, seed=1234) == schedule(config, sizes, 1000, seed=1234)
    assert schedule(config, sizes, 1000, seed=1235) != schedule(config, sizes, 1000, seed=1234)


def test_a_longer_schedule_extends_a_shorter_one():
    config = parse_sampler("temperature:T=2")
    assert schedule(config, THREE, 500, seed=3)[:200] == schedule(config, THREE, 200, seed=3)


def test_the_draw_is_default_rng_choice():
    # The documented equivalence: Generator.choice(k, size=steps, p=p) from default_rng(seed).
    config = parse_sampler("temperature:T=2,cap=60000")
    p = list(task_probabilities(config, THREE).values())
    names = list(THREE)
    expected = np.random.default_rng(99).choice(len(names), size=5000, p=p)
    assert schedule(config, THREE, 5000, seed=99) == [names[i] for i in expected]


def test_task_schedule_views():
    config = parse_sampler("probabilities:a=1,b=1,c=1e-9")
    drawn = TaskSchedule.draw(config, {"a": 1, "b": 2, "c": 3}, 50, seed=0)
    assert len(drawn) == 50 and list(drawn) == list(drawn.tasks) and drawn[3] == drawn.tasks[3]
    assert drawn.counts()["c"] == 0  # never drawn, still listed
    assert drawn.seed == 0 and dict(drawn.probabilities)["a"] == pytest.approx(0.5)
    assert schedule(parse_sampler("uniform"), AB, 0, seed=0) == []


# --- epochs ------------------------------------------------------------------------------------


def test_epoch_steps_follow_jiants_per_task_rounding():
    # jiant: max_steps += epochs * math.ceil(capped_num_examples / effective_batch_size)
    sizes = {"a": 100, "b": 401}
    assert epoch_steps(parse_sampler("proportional"), sizes, 32) == 4 + 13  # not ceil(501/32)=16
    assert epoch_steps(parse_sampler("proportional:cap=200"), sizes, 32) == 4 + 7
    assert epoch_steps(parse_sampler("temperature:T=2,cap=50"), sizes, 32) == 2 + 2
    assert epoch_steps(parse_sampler("uniform"), sizes, 32) == 17
    assert epoch_steps(parse_sampler("probabilities:a=1,b=9"), sizes, 1) == 501
    assert epoch_steps(parse_sampler("uniform"), {"a": 64}, 32) == 2


# --- descriptions and spec strings -------------------------------------------------------------


def test_describe_is_one_informative_line():
    lines = {spec: describe(parse_sampler(spec), THREE) for spec in EXAMPLES}
    assert all("\n" not in line for line in lines.values())
    assert "uniform" in lines["uniform"] and "33.3%" in lines["uniform"]
    assert "min(examples, 50000)" in lines["proportional:cap=50000"]
    assert "T=2" in lines["temperature:T=2,cap=100000"]
    assert "min(examples, 100000)^(1/T)" in lines["temperature:T=2,cap=100000"]
    assert "mnli 0.5, squad 0.3, hellaswag 0.2" in lines[EXAMPLES[-1]]
    assert describe(parse_sampler("proportional")) == "proportional task sampling (p ∝ examples)"


@pytest.mark.parametrize("spec", EXAMPLES)
def test_examples_round_trip_exactly(spec):
    config = parse_sampler(spec)
    assert format_sampler(config) == str(config) == spec
    assert parse_sampler(str(config)) == config and hash(parse_sampler(spec)) == hash(config)


@pytest.mark.parametrize(
    "config",
    [
        Sampler(kind="uniform"),
        Sampler(kind="proportional", cap=1),
        Sampler(kind="temperature", temperature=0.1),
        Sampler(kind="temperature", temperature=1 / 3, cap=123_456),
        Sampler(kind="temperature", temperature=1e-7),
        Sampler(kind="probabilities", probabilities={"x-nli": 1 / 3, "t": 2, "cap": 1e-30}),
    ],
)
def test_configs_round_trip(config):
    assert parse_sampler(format_sampler(config)) == config


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("  Temperature : T = 2 , cap = 100_000 ", "temperature:T=2,cap=100000"),
        ("temperature:t=2.5", "temperature:T=2.5"),
        ("PROPORTIONAL", "proportional"),
        ("probabilities: mnli = 2 , squad = 1", "probabilities:mnli=2,squad=1"),
    ],
)
def test_parse_is_lenient_about_layout(text, canonical):
    assert format_sampler(parse_sampler(text)) == canonical


def test_config_copies_and_normalises_its_inputs():
    weights = {"a": 1, "b": 3}
    config = Sampler(kind="probabilities", probabilities=weights)
    weights["a"] = 100
    assert config.probabilities == {"a": 1.0, "b": 3.0}
    assert Sampler(kind="temperature", T=2) == Sampler(kind="temperature", temperature=2.0)
    assert Sampler.parse({"kind": "temperature", "T": 2}, option="x") == parse_sampler(
        "temperature:T=2"
    )  # a recipe's mapping and a command line's text are one sampler
    assert set(KINDS) == {"uniform", "proportional", "temperature", "probabilities"}


# --- errors ------------------------------------------------------------------------------------


def assert_one_line_error(error: pytest.ExceptionInfo[StiltsError], *fragments: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize(
    ("mapping", "fragments"),
    [
        (
            {"kind": "proportinal"},
            ["kind: Input should be 'uniform'", "did you mean 'proportional'"],
        ),
        ({"kind": "softmax"}, ["(got 'softmax')", "'uniform', 'proportional', 'temperature' or"]),
        ({"kind": None}, ["kind: Input should be", "(got None)"]),
        ({"kind": "temperature", "T": 0}, ["T: Input should be greater than 0", "(got 0)"]),
        ({"kind": "temperature", "T": -2.0}, ["T: Input should be greater than 0"]),
        ({"kind": "temperature", "T": float("inf")}, ["T: Input should be a finite number"]),
        ({"kind": "temperature", "T": float("nan")}, ["T: Input should be a finite number"]),
        ({"kind": "temperature", "T": "2"}, ["T: Input should be a valid number (got '2')"]),
        ({"kind": "temperature", "T": True}, ["T: Input should be a valid number (got True)"]),
        ({"kind": "temperature"}, ["temperature sampling needs T"]),
        ({"kind": "proportional", "T": 2.0}, ["proportional sampling takes only cap, not T"]),
        ({"kind": "proportional", "cap": 0}, ["cap: Input should be greater than or equal to 1"]),
        ({"kind": "temperature", "T": 2, "cap": -5}, ["cap: Input should be greater than or"]),
        ({"kind": "proportional", "cap": 2.5}, ["cap: Input should be a valid integer"]),
        ({"kind": "proportional", "cap": True}, ["cap: Input should be a valid integer"]),
        ({"kind": "uniform", "cap": 10}, ["uniform sampling takes no parameters, not cap"]),
        ({"kind": "probabilities", "probabilities": {"a": 1}, "cap": 10}, ["only probabilities"]),
        ({"kind": "probabilities"}, ["needs a probability for every task"]),
        ({"kind": "probabilities", "probabilities": {}}, ["needs a probability for every task"]),
        ({"kind": "probabilities", "probabilities": {"a": 0}}, ["'a' must be a finite number > 0"]),
        ({"kind": "probabilities", "probabilities": {"a": -0.5}}, ["finite number > 0"]),
        ({"kind": "probabilities", "probabilities": {"a": float("inf")}}, ["finite number > 0"]),
        ({"kind": "probabilities", "probabilities": {"a": "1"}}, ["valid number (got '1')"]),
        ({"kind": "probabilities", "probabilities": {"": 1}}, ["task names as keys"]),
        ({"kind": "uniform", "probabilities": {"a": 1}}, ["uniform sampling takes no parameters"]),
        ({"kind": "temperature", "T": 2, "probabilities": {"a": 1}}, ["not probabilities"]),
        ({"kind": "uniform", "temprature": 2}, ["unknown key temprature", "allowed here: kind, T"]),
    ],
)
def test_bad_mappings(mapping, fragments):
    """A recipe's sampler mapping is checked by the same model as a command line's text."""
    with pytest.raises(StiltsError) as error:
        parse_sampler(mapping)
    assert_one_line_error(error, "--sampler {", *fragments)


@pytest.mark.parametrize(
    ("spec", "sizes", "fragments"),
    [
        (
            "probabilities:mnlii=1,squad=1",
            {"mnli": 5, "squad": 5},
            [
                "'mnlii'",
                "did you mean 'mnli'",
                "not a task of this phase",
                "its tasks are mnli, squad",
            ],
        ),
        ("probabilities:mnli=1,squad=1,x=1,y=2", {"mnli": 5, "squad": 5}, ["'x'", "(and 'y')"]),
        ("probabilities:mnli=1", {"mnli": 5, "squad": 5, "ccg": 5}, ["leave out squad, ccg"]),
        ("uniform", {}, ["at least one task"]),
        ("proportional", {"a": 0, "b": 3}, ["'a' has 0 training examples"]),
        ("temperature:T=2", {"a": -1}, ["'a' has -1 training examples"]),
        ("uniform", {"a": 2.5}, ["non-integer size 2.5"]),
        ("uniform", {"a": True}, ["non-integer size True"]),
    ],
)
def test_bad_tasks_or_sizes(spec, sizes, fragments):
    with pytest.raises(StiltsError) as error:
        task_probabilities(parse_sampler(spec), sizes)
    assert_one_line_error(error, *fragments)


def test_numpy_integer_sizes_are_fine():
    assert probs("proportional", {"a": np.int64(1), "b": np.int32(3)}) == {"a": 0.25, "b": 0.75}


@pytest.mark.parametrize(
    ("steps", "seed", "fragment"),
    [(-1, 0, "steps >= 0"), (2.0, 0, "steps >= 0"), (10, -1, "seed >= 0"), (10, 1.5, "seed")],
)
def test_bad_schedule_arguments(steps, seed, fragment):
    with pytest.raises(StiltsError) as error:
        schedule(parse_sampler("uniform"), AB, steps, seed)
    assert_one_line_error(error, fragment)


@pytest.mark.parametrize("batch_size", [0, -4, 2.0, True])
def test_bad_batch_size(batch_size):
    with pytest.raises(StiltsError) as error:
        epoch_steps(parse_sampler("uniform"), AB, batch_size)
    assert_one_line_error(error, "batch size")


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("", ["the spec is empty", "e.g. uniform"]),
        ("   ", ["the spec is empty"]),
        ("temprature:T=2", ["(got 'temprature')", "did you mean 'temperature'"]),
        ("random", ["(got 'random')", "'uniform', 'proportional', 'temperature' or"]),
        ("uniform:", ["nothing after ':'"]),
        ("uniform:cap=10", ["uniform sampling takes no parameters, not cap"]),
        ("proportional:T=2", ["proportional sampling takes only cap, not T"]),
        ("proportional:caps=10", ["unknown key caps", "did you mean 'cap'"]),
        ("proportional:cap", ["'cap' is not key=value"]),
        ("proportional:cap=", ["'cap=' is not key=value"]),
        ("proportional:=5", ["'=5' is not key=value"]),
        ("proportional:cap=10,", ["'' is not key=value"]),
        ("proportional:cap=1e5", ["cap: Input should be a valid integer"]),
        ("proportional:cap=0", ["cap: Input should be greater than or equal to 1"]),
        ("proportional:cap=5,cap=6", ["'cap' is given twice"]),
        ("temperature", ["temperature sampling needs T", "temperature:T=2"]),
        ("temperature:cap=10", ["needs T"]),
        ("temperature:T=hot", ["T: Input should be a valid number (got 'hot')"]),
        ("temperature:T=0", ["T: Input should be greater than 0"]),
        ("temperature:T=-1", ["T: Input should be greater than 0"]),
        ("temperature:T=inf", ["T: Input should be a finite number"]),
        ("temperature:T=2,t=3", ["'T' is given twice"]),
        ("probabilities", ["needs a probability for every task", "probabilities:mnli=0.5"]),
        ("probabilities:mnli", ["'mnli' is not key=value"]),
        ("probabilities:mnli=half", ["probabilities.mnli: Input should be a valid number"]),
        ("probabilities:mnli=0,squad=1", ["'mnli' must be a finite number > 0"]),
        ("probabilities:mnli=1,mnli=2", ["'mnli' is given twice"]),
    ],
)
def test_bad_specs(text, fragments):
    with pytest.raises(StiltsError) as error:
        parse_sampler(text)
    assert_one_line_error(error, f"--sampler {text.strip()!r}: ", *fragments)
