"""Regenerate the synthetic MNLI/XNLI sample data bundled under ``stilts/sample_data``.

Why this exists: stilts reads MNLI (``nyu-mll/glue``) and XNLI (``google/xtreme``) from the
Hugging Face Hub, which offline machines and CI cannot reach. This script writes a small,
synthetic stand-in for both in their *exact* hub file layout and schema, so the real loading
code reads it as a local mirror of the hub repos and ``stilts chain mnli xnli`` runs end to end
without a network. The text is made of real words in each language's script (see
``tools/sample_lexicon.json``), and the labels follow reliable surface cues (an emphatic
negation, "in fact ... did not ... at all", means contradiction; an "also ... because ..."
clause means neutral; a plain shortened copy of the premise means entailment), so a tiny
randomly initialised model trained for about a minute on CPU learns the English training split.

Every split and language draws from its own seeded ``random.Random``, so the output is
byte-for-byte reproducible: rerun this script after editing the lexicon or the rules below,
never edit the parquet files by hand.

    python tools/make_sample_data.py [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import datasets
from datasets import ClassLabel, Dataset, Features, Value

TOOLS_DIR: Final = Path(__file__).resolve().parent
DEFAULT_OUT: Final = TOOLS_DIR.parent / "stilts" / "sample_data"
LEXICON_PATH: Final = TOOLS_DIR / "sample_lexicon.json"

LABELS: Final = ("entailment", "neutral", "contradiction")  # GLUE's ClassLabel order
XNLI_LANGUAGES: Final = (
    "ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh",
)  # fmt: skip

# Rows per split; GLUE hides its test labels (-1), and so do we.
MNLI_SPLITS: Final = {
    "train": 2400,
    "validation_matched": 300,
    "validation_mismatched": 300,
    "test_matched": 100,
    "test_mismatched": 100,
}
MNLI_UNLABELLED: Final = frozenset({"test_matched", "test_mismatched"})
XNLI_ROWS_PER_LANGUAGE: Final = {"validation": 60, "test": 120}

# Surface variety that carries no label information (applied alike to every label).
P_SECOND_ADJECTIVE: Final = 0.3
P_ADVERB: Final = 0.4
P_HYPOTHESIS_KEEPS_ADJECTIVES: Final = 0.25

MNLI_FEATURES: Final = Features(
    {
        "premise": Value("string"),
        "hypothesis": Value("string"),
        "label": ClassLabel(names=list(LABELS)),
        "idx": Value("int32"),
    }
)
XNLI_FEATURES: Final = Features(
    {
        "language": Value("string"),
        "sentence1": Value("string"),
        "sentence2": Value("string"),
        "gold_label": Value("string"),
    }
)

_TEMPLATE_KEYS: Final = ("np", "np_adj", "adj_pair", "premise", *LABELS)
_SPACE_BEFORE_PUNCT: Final = re.compile(r"\s+([.,!?;:。，،۔।])")
_RUNS_OF_SPACE: Final = re.compile(r"\s{2,}")


@dataclass(frozen=True)
class Agent:
    head: str  # the noun as it stands next to adjectives
    definite: str  # "the NOUN" where the article is part of the word (bg)


@dataclass(frozen=True)
class Adjective:
    first: str  # form used for the first (or only) adjective
    plain: str  # form used after the pair connector


@dataclass(frozen=True)
class Verb:
    form: str
    negated: str


@dataclass(frozen=True)
class Language:
    code: str
    agents: tuple[Agent, ...]
    adjectives: tuple[Adjective, ...]
    objects: tuple[str, ...]
    verbs: tuple[Verb, ...]
    places: tuple[str, ...]
    adverbs: tuple[str, ...]
    reasons: tuple[str, ...]
    templates: Mapping[str, str]
    contradiction_cue: re.Pattern[str]
    neutral_cue: re.Pattern[str]
    adjective_clashes: frozenset[frozenset[int]]  # index pairs never used together

    @classmethod
    def from_json(
        cls, code: str, raw: Mapping[str, Any], adjective_clashes: Sequence[Sequence[int]] = ()
    ) -> Language:
        templates: dict[str, str] = dict(raw["templates"])
        missing = [key for key in _TEMPLATE_KEYS if key not in templates]
        if missing:
            raise ValueError(f"{code}: templates lack {missing}")
        neg_verb = templates.get("neg_verb")

        def agent(entry: str | Mapping[str, str]) -> Agent:
            if isinstance(entry, str):
                return Agent(head=entry, definite=entry)
            return Agent(head=entry["head"], definite=entry["def"])

        def adjective(entry: str | Mapping[str, str]) -> Adjective:
            if isinstance(entry, str):
                return Adjective(first=entry, plain=entry)
            return Adjective(first=entry["first"], plain=entry["plain"])

        def verb(entry: str | Mapping[str, str]) -> Verb:
            if isinstance(entry, str):
                if neg_verb is None:
                    raise ValueError(f"{code}: verb {entry!r} needs 'neg' (no neg_verb template)")
                return Verb(form=entry, negated=neg_verb.format(v=entry))
            return Verb(form=entry["v"], negated=entry["neg"])

        return cls(
            code=code,
            agents=tuple(agent(e) for e in raw["agents"]),
            adjectives=tuple(adjective(e) for e in raw["adjectives"]),
            objects=tuple(raw["objects"]),
            verbs=tuple(verb(e) for e in raw["verbs"]),
            places=tuple(raw["places"]),
            adverbs=tuple(raw["adverbs"]),
            reasons=tuple(raw["reasons"]),
            templates=templates,
            contradiction_cue=re.compile(raw["cues"]["contradiction"]),
            neutral_cue=re.compile(raw["cues"]["neutral"]),
            adjective_clashes=frozenset(frozenset(pair) for pair in adjective_clashes),
        )

    @property
    def sizes(self) -> dict[str, int]:
        return {
            "agents": len(self.agents),
            "adjectives": len(self.adjectives),
            "objects": len(self.objects),
            "verbs": len(self.verbs),
            "places": len(self.places),
        }

    def make_pair(self, label: str, rng: random.Random) -> tuple[str, str]:
        """One (premise, hypothesis) pair whose hypothesis has `label`."""
        # Draw everything up front, in a fixed order, whatever the label.
        agent = rng.choice(self.agents)
        first_adjective = rng.randrange(len(self.adjectives))
        adjectives = [self.adjectives[first_adjective]]
        if rng.random() < P_SECOND_ADJECTIVE:
            compatible = [
                i
                for i in range(len(self.adjectives))
                if i != first_adjective
                and frozenset((first_adjective, i)) not in self.adjective_clashes
            ]
            adjectives.append(self.adjectives[rng.choice(compatible)])
        verb = rng.choice(self.verbs)
        obj, other_obj = rng.sample(self.objects, 2)
        place = rng.choice(self.places)
        adverb = rng.choice(self.adverbs) if rng.random() < P_ADVERB else ""
        reason = rng.choice(self.reasons)
        keep_adjectives = rng.random() < P_HYPOTHESIS_KEEPS_ADJECTIVES

        t = self.templates
        if len(adjectives) == 1:
            adjs = adjectives[0].first
        else:
            adjs = t["adj_pair"].format(a=adjectives[0].first, b=adjectives[1].plain)
        full_subject = t["np_adj"].format(n=agent.head, d=agent.definite, adjs=adjs)
        bare_subject = t["np"].format(n=agent.head, d=agent.definite)
        slots = {
            "v": verb.form,
            "neg": verb.negated,
            "o": obj,
            "o2": other_obj,
            "place": place,
            "adv": adverb,
            "reason": reason,
        }
        premise = self._render(t["premise"].format(subj=full_subject, **slots))
        subject = full_subject if keep_adjectives else bare_subject
        hypothesis = self._render(t[label].format(subj=subject, **slots))
        self._check_cues(premise, None)
        self._check_cues(hypothesis, label)
        return premise, hypothesis

    def _render(self, text: str) -> str:
        text = _RUNS_OF_SPACE.sub(" ", text).strip()
        text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
        first = "İ" if self.code == "tr" and text[0] == "i" else text[0].upper()
        return first + text[1:]

    def _check_cues(self, text: str, label: str | None) -> None:
        """Keep the label cues unambiguous: fail loudly if the lexicon ever breaks them."""
        negated = self.contradiction_cue.search(text) is not None
        marked = self.neutral_cue.search(text) is not None
        if negated != (label == "contradiction") or marked != (label == "neutral"):
            what = "premise" if label is None else f"{label} hypothesis"
            raise ValueError(f"{self.code}: cues do not identify the {what} {text!r}")


def load_lexicon(path: Path) -> dict[str, Language]:
    lexicon = json.loads(path.read_text(encoding="utf-8"))
    raw = lexicon["languages"]
    if set(raw) != set(XNLI_LANGUAGES):
        raise ValueError(f"{path}: languages {sorted(raw)} != {sorted(XNLI_LANGUAGES)}")
    clashes = lexicon.get("adjective_clashes", [])
    languages = {code: Language.from_json(code, raw[code], clashes) for code in XNLI_LANGUAGES}
    # The lists are parallel across languages (adjective_clashes relies on it).
    for code, language in languages.items():
        if language.sizes != languages["en"].sizes:
            raise ValueError(f"{path}: {code} sizes {language.sizes} != en {languages['en'].sizes}")
    return languages


def balanced_labels(n: int, rng: random.Random) -> list[str]:
    """`n` labels, a third each (the first labels take any remainder), in random order."""
    labels = [LABELS[i % len(LABELS)] for i in range(n)]
    rng.shuffle(labels)
    return labels


def generate(language: Language, n: int, seed: str) -> list[tuple[str, str, str]]:
    """`n` (premise, hypothesis, label) rows from a generator seeded by the string `seed`."""
    rng = random.Random(seed)  # str seeds hash with SHA-512: stable across runs and platforms
    return [(*language.make_pair(label, rng), label) for label in balanced_labels(n, rng)]


def write_parquet(columns: Mapping[str, Sequence[object]], features: Features, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Dataset.from_dict(dict(columns), features=features).to_parquet(str(path))


def write_mnli(english: Language, out: Path) -> list[Path]:
    """``nyu-mll/glue`` layout: ``mnli/{split}-00000-of-00001.parquet``."""
    written = []
    for split, n in MNLI_SPLITS.items():
        rows = generate(english, n, seed=f"stilts-sample/mnli/{split}")
        hidden = split in MNLI_UNLABELLED
        columns: dict[str, list[Any]] = {
            "premise": [premise for premise, _, _ in rows],
            "hypothesis": [hypothesis for _, hypothesis, _ in rows],
            "label": [-1 if hidden else LABELS.index(label) for _, _, label in rows],
            "idx": list(range(n)),
        }
        path = out / "nyu-mll" / "glue" / "mnli" / f"{split}-00000-of-00001.parquet"
        write_parquet(columns, MNLI_FEATURES, path)
        written.append(path)
    return written


def write_xnli(languages: Mapping[str, Language], out: Path) -> list[Path]:
    """``google/xtreme`` layout: ``XNLI/{split}-00000-of-00001.parquet``, all languages."""
    written = []
    for split, per_language in XNLI_ROWS_PER_LANGUAGE.items():
        columns: dict[str, list[str]] = {name: [] for name in XNLI_FEATURES}
        for code in XNLI_LANGUAGES:
            for premise, hypothesis, label in generate(
                languages[code], per_language, seed=f"stilts-sample/xnli/{split}/{code}"
            ):
                columns["language"].append(code)
                columns["sentence1"].append(premise)
                columns["sentence2"].append(hypothesis)
                columns["gold_label"].append(label)
        path = out / "google" / "xtreme" / "XNLI" / f"{split}-00000-of-00001.parquet"
        write_parquet(columns, XNLI_FEATURES, path)
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        help=f"output root, overwritten in place (default: {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--lexicon", type=Path, default=LEXICON_PATH, help="per-language lexicon (JSON)"
    )
    args = parser.parse_args(argv)
    datasets.disable_progress_bars()
    languages = load_lexicon(args.lexicon)
    written = write_mnli(languages["en"], args.out) + write_xnli(languages, args.out)
    for path in written:
        print(f"{path.stat().st_size:>8}  {path}")


if __name__ == "__main__":
    main()
