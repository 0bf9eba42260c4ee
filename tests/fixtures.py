"""Synthetic stand-ins for every registered task's data, in the exact hub schema and layout.

`write_fixtures(root)` makes `root` a local mirror (as `--data root` reads it) holding small
tables for every task: the bundled MNLI/XNLI sample, and for every other task each split and
language its loader reads, with the real dataset's column names, `datasets.Features` types,
ClassLabel names, string-vs-int labels, split names and file layout. CCGbank is written as
AUTO files under ``root/LDC2005T13/ccgbank_1_1/data/AUTO``, UD English EWT as CoNLL-U files
under ``root/UniversalDependencies/UD_English-EWT``.

The English data is learnable by a tiny randomly initialised model in a few epochs, through
simple surface cues: a marker word decides a classification label; the right choice of a
multiple-choice row holds a marker word no wrong choice holds; a word's tag is a function of
the word, and its dependency head and relation follow from it and its neighbours; a QA answer
is the only word of a closed answer set in its context. Other languages have the same
structure with a language prefix, so each language's table is distinct. The masked-LM text
repeats one word of its language's own per document, so every masked word follows from the
words around it.
Every table draws from its own seeded `random.Random`, so the output is reproducible.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import datasets
from datasets import ClassLabel, Features, List, Value
from fixtures_xtreme_r import write_lareqa, write_mewslix

from stilts.experiment.bundled import SAMPLE_DATA
from stilts.tasks.data import DataLocator, HubSource
from stilts.tasks.plugins.ccg import CCGBANK
from stilts.tasks.plugins.english import glue_source
from stilts.tasks.plugins.mlm import TEXT as MLM_TEXT
from stilts.tasks.plugins.mlm import mlm as mlm_task
from stilts.tasks.plugins.multiple_choice import (
    COMMONSENSE_QA,
    COPA,
    COSMOS_QA,
    HELLASWAG,
    SIQA,
    XCOPA_LANGUAGES,
    xcopa_source,
)
from stilts.tasks.plugins.nli import ANLI, GLUE_MNLI, MNLI_GENRES, MULTI_NLI, SNLI, xnli_translation
from stilts.tasks.plugins.paraphrase import PAWSX_LANGUAGES, pawsx_source
from stilts.tasks.plugins.qa import (
    MLQA_LANGUAGES,
    SQUAD,
    SQUAD_V2,
    TYDIQA,
    TYDIQA_LANGUAGES,
    XQUAD_LANGUAGES,
)
from stilts.tasks.plugins.retrieval import (
    BUCC,
    BUCC_LANGUAGES,
    TATOEBA_COLUMNS,
    TATOEBA_LANGUAGES,
    tatoeba_source,
)
from stilts.tasks.plugins.tagging import (
    PANX_LANGUAGES,
    PANX_TAGS,
    UDPOS_LANGUAGES,
    UPOS_TAGS,
    panx_source,
    udpos_source,
)
from stilts.tasks.plugins.udparse import UD_EWT
from stilts.tasks.plugins.xtreme import xtreme_source
from stilts.testing import write_table

FIXTURE_TASKS = (
    "mnli", "xnli", "pawsx", "qqp", "snli", "anli_plus", "squad", "squad_v2", "xquad", "mlqa",
    "tydiqa", "udpos", "panx", "ccg", "hellaswag", "commonsenseqa", "cosmosqa", "siqa", "copa",
    "xcopa", "tatoeba", "bucc2018", "mewslix", "lareqa", "mlm", "udparse",
)  # fmt: skip
"""Every task whose data `write_fixtures` provides (mnli and xnli through the bundled sample)."""

ENGLISH_SIZES = {"train": 800, "validation": 72, "test": 24}
"""Rows of an English table per split; other languages' tables have `OTHER_ROWS` rows.

A train split of 800 rows is 75 steps in the smoke settings (batch 32, 3 epochs): about the
fewest at which a tiny random model reliably learns these cues. At 360-400 rows squad_v2 stayed
at the all-null answer and PAN-X at 30-50 F1; sentence classification needs more (below)."""
CLASSIFICATION_TRAIN_ROWS = 1000
"""QQP and SNLI train rows: a marker word anywhere in a pair of varied sentences was learnt at
800-1000 rows, at chance below 600."""
OTHER_ROWS = 24

NLI_LABELS = ["entailment", "neutral", "contradiction"]
MARKER = "surely"
"""The word that marks the right choice of a multiple-choice row (never in a wrong one)."""


def write_fixtures(root: Path) -> None:
    """Write fixture data for every task of `FIXTURE_TASKS` under `root`."""
    root = Path(root)
    shutil.copytree(SAMPLE_DATA, root, dirs_exist_ok=True)  # mnli, xnli
    for write in (
        write_pawsx_fixture,
        write_qqp,
        write_snli,
        write_anli,
        write_multi_nli,
        write_squad,
        write_squad_v2,
        write_xquad,
        write_mlqa,
        write_tydiqa,
        write_udpos,
        write_panx,
        write_ccgbank,
        write_hellaswag,
        write_commonsense_qa,
        write_cosmos_qa,
        write_social_i_qa,
        write_copa,
        write_xcopa,
        write_tatoeba,
        write_bucc,
        write_mewslix,
        write_lareqa,
        write_mlm_text,
        write_ud_ewt,
    ):
        write(root)


def _rng(*parts: object) -> random.Random:
    """A generator seeded by a string (hashed with SHA-512: the same on every machine)."""
    return random.Random("/".join(map(str, parts)))


def _write(root: Path, source: HubSource, split: str, rows: dict, features: Features) -> None:
    write_table(root, source, split, datasets.Dataset.from_dict(rows, features=features))


def _prefix(language: str, text: str) -> str:
    """Non-English text starts with the language code, so every language's table differs."""
    return text if language == "en" else f"{language} {text}"


# --- shared English vocabulary ------------------------------------------------------------

SUBJECTS = (
    "the farmer", "the painter", "the driver", "the cook", "the boy", "the fisherman",
    "the teacher", "the doctor", "my neighbour", "the old woman", "a young girl", "the pilot",
)  # fmt: skip
VERBS = ("carried", "found", "painted", "sold", "washed", "opened", "dropped", "bought")
OBJECTS = (
    "the key", "the letter", "the bottle", "the basket", "the ball", "the chair", "the lamp",
    "the book", "a small box", "the blue coat",
)  # fmt: skip
PLACES = (
    "near the river", "in the garden", "at the market", "behind the house", "on the bridge",
    "in the kitchen", "by the station", "under the tree",
)  # fmt: skip
ACTIONS = (
    "walks to the river", "opens the window", "eats some bread", "reads a letter",
    "climbs the hill", "waits for the bus", "cleans the table", "sings a song",
    "writes a note", "feeds the cat", "paints the fence", "locks the door",
)  # fmt: skip


def sentence(rng: random.Random) -> str:
    """A plain English clause with its full stop, e.g. 'the cook sold the lamp in the garden .'"""
    subject, verb, obj = rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS)
    return f"{subject} {verb} {obj} {rng.choice(PLACES)} ."


def with_marker(rng: random.Random, words: str, marker: str = MARKER) -> str:
    """`words` with `marker` inserted at a random word boundary."""
    parts = words.split()
    parts.insert(rng.randrange(len(parts) + 1), marker)
    return " ".join(parts)


# --- classification -----------------------------------------------------------------------

PAWSX_FEATURES = Features({name: Value("string") for name in ("sentence1", "sentence2", "label")})
PAWSX_SIZES = {"train": 400, "validation": 60, "test": 80}


def write_pawsx_fixture(root: Path) -> None:
    """Learnable rows in the XTREME PAWS-X schema: a marker word decides the label."""
    subjects = ["the farmer", "the painter", "the driver", "the cook", "the boy", "the fisherman"]
    objects = ["the key", "the letter", "the bottle", "the basket", "the ball"]
    for language in PAWSX_LANGUAGES:
        for split, n in PAWSX_SIZES.items():
            rows = {"sentence1": [], "sentence2": [], "label": []}
            for i in range(n):
                text = f"{subjects[i % 6]} saw {objects[(i // 6) % 5]} ."
                paraphrase = i % 2
                rows["sentence1"].append(f"{language} {text}")
                rows["sentence2"].append(text + (" indeed" if paraphrase else " never"))
                rows["label"].append(str(paraphrase))
            write_table(
                root,
                pawsx_source(language),
                split,
                datasets.Dataset.from_dict(rows, features=PAWSX_FEATURES),
            )


QQP_FEATURES = Features(
    {
        "question1": Value("string"),
        "question2": Value("string"),
        "label": ClassLabel(names=["not_duplicate", "duplicate"]),
        "idx": Value("int32"),
    }
)
QQP_CUES = ("otherwise", "exactly")
"""The word in question2 that decides the label: not_duplicate, duplicate."""


def write_qqp(root: Path) -> None:
    for split, n in {**ENGLISH_SIZES, "train": CLASSIFICATION_TRAIN_ROWS}.items():
        rng = _rng("qqp", split)
        rows: dict[str, list] = {"question1": [], "question2": [], "label": [], "idx": []}
        for i in range(n):
            label = rng.randrange(2)
            subject, action = rng.choice(SUBJECTS), rng.choice(ACTIONS)
            rows["question1"].append(f"what happens when {subject} {action} ?")
            subject, action, cue = rng.choice(SUBJECTS), rng.choice(ACTIONS), QQP_CUES[label]
            rows["question2"].append(f"who {cue} {action} when {subject} {rng.choice(ACTIONS)} ?")
            rows["label"].append(label if split != "test" else -1)  # GLUE hides test labels
            rows["idx"].append(i)
        _write(root, glue_source("qqp"), split, rows, QQP_FEATURES)


NLI_CUES = ("indeed", "perhaps", "never")  # entailment, neutral, contradiction


def _nli_pair(rng: random.Random, label: int) -> tuple[str, str]:
    """'the cook sold the lamp …' -> 'the boy never opened the key .' (a contradiction)."""
    premise, cue = sentence(rng), NLI_CUES[label]
    return premise, f"{rng.choice(SUBJECTS)} {cue} {rng.choice(VERBS)} {rng.choice(OBJECTS)} ."


SNLI_FEATURES = Features(
    {
        "premise": Value("string"),
        "hypothesis": Value("string"),
        "label": ClassLabel(names=NLI_LABELS),
    }
)
SNLI_UNLABELLED_EVERY = 15
"""Every 15th SNLI row has no gold label (-1), as SNLI's rows without annotator consensus."""


def write_snli(root: Path) -> None:
    for split, n in {"train": CLASSIFICATION_TRAIN_ROWS, "validation": 75, "test": 30}.items():
        rng = _rng("snli", split)
        rows: dict[str, list] = {"premise": [], "hypothesis": [], "label": []}
        for i in range(n):
            label = rng.randrange(3)
            premise, hypothesis = _nli_pair(rng, label)
            rows["premise"].append(premise)
            rows["hypothesis"].append(hypothesis)
            rows["label"].append(-1 if i % SNLI_UNLABELLED_EVERY == 7 else label)
        _write(root, SNLI, split, rows, SNLI_FEATURES)


ANLI_FEATURES = Features(
    {
        "uid": Value("string"),
        "premise": Value("string"),
        "hypothesis": Value("string"),
        "label": ClassLabel(names=NLI_LABELS),
        "reason": Value("string"),
    }
)


def write_anli(root: Path) -> None:
    for round_ in ("r1", "r2", "r3"):
        for split, n in {"train": 100, "dev": 25, "test": 20}.items():
            rng = _rng("anli", split, round_)
            rows: dict[str, list] = {k: [] for k in ANLI_FEATURES}
            for _ in range(n):
                label = rng.randrange(3)
                premise, hypothesis = _nli_pair(rng, label)
                rows["uid"].append(f"{rng.getrandbits(128):032x}")
                rows["premise"].append(premise)
                rows["hypothesis"].append(hypothesis)
                rows["label"].append(label)
                rows["reason"].append("" if split == "train" else f"the word {NLI_CUES[label]}")
            _write(root, ANLI, f"{split}_{round_}", rows, ANLI_FEATURES)


MULTI_NLI_FEATURES = Features(
    {
        "promptID": Value("int32"),
        "pairID": Value("string"),
        "premise": Value("string"),
        "premise_binary_parse": Value("string"),
        "premise_parse": Value("string"),
        "hypothesis": Value("string"),
        "hypothesis_binary_parse": Value("string"),
        "hypothesis_parse": Value("string"),
        "genre": Value("string"),
        "label": ClassLabel(names=NLI_LABELS),
    }
)
MISMATCHED_GENRES = ("facetoface", "letters", "nineeleven", "oup", "verbatim")
"""The genres of MNLI's mismatched dev set, none of them in its training set."""


def write_multi_nli(root: Path) -> None:
    """nyu-mll/multi_nli: the bundled GLUE MNLI sample's rows, each with a genre (the same
    rows as GLUE's, as on the hub) and multi_nli's other columns."""
    splits = {"train": "train", "validation_matched": "validation_matched",
              "validation_mismatched": "validation_mismatched"}  # fmt: skip
    for split, glue_split in splits.items():
        rng = _rng("multi_nli", split)
        glue = DataLocator(SAMPLE_DATA).load(GLUE_MNLI, glue_split)
        genres = MISMATCHED_GENRES if split == "validation_mismatched" else MNLI_GENRES
        rows: dict[str, list] = {k: [] for k in MULTI_NLI_FEATURES}
        for i, row in enumerate(glue):
            prompt = rng.randrange(10**5)
            rows["promptID"].append(prompt)
            rows["pairID"].append(f"{prompt}{'enc'[row['label']]}")
            for column in ("premise", "hypothesis"):
                words = " ".join(f"( {w} )" for w in row[column].split())
                rows[column].append(row[column])
                rows[f"{column}_binary_parse"].append(f"( {words} )")
                rows[f"{column}_parse"].append(f"(ROOT (S {words.replace('( ', '(X ')}))")
            rows["genre"].append(genres[(i + rng.randrange(2)) % len(genres)])
            rows["label"].append(row["label"])
        _write(root, MULTI_NLI, split, rows, MULTI_NLI_FEATURES)


# --- extractive QA ------------------------------------------------------------------------

ANSWER_WORDS = (
    "zebra", "tulip", "copper", "violet", "maple", "falcon", "amber", "cedar", "walrus",
    "orchid", "cobalt", "lemur",
)  # fmt: skip
"""The only words a QA answer is made of; they occur nowhere else in any context."""
QA_KEYS = ("code", "password", "signal", "secret word")
QA_QUESTIONS = ("what is the {key} ?", "which word is the {key} ?", "tell me the {key} ?")
SQUAD_ANSWERS = {"text": List(Value("string")), "answer_start": List(Value("int32"))}
XTREME_ANSWERS = {"answer_start": List(Value("int32")), "text": List(Value("string"))}
"""`answers` as each hub dataset declares it: a struct of lists (a `Sequence` of a dict), with
its fields in SQuAD's order or in google/xtreme's (its loading script put answer_start first)."""


def qa_features(*, title: bool = True, xtreme: bool = False) -> Features:
    """SQuAD's columns; XQuAD alone has no `title`."""
    columns = ("id", "title", "context", "question") if title else ("id", "context", "question")
    answers = XTREME_ANSWERS if xtreme else SQUAD_ANSWERS
    return Features({**{name: Value("string") for name in columns}, "answers": answers})


def qa_example(
    rng: random.Random, language: str = "en", *, answerable: bool = True, long: bool = False
) -> tuple[str, str, str | None, int]:
    """(context, question, answer or None, answer_start): '… the code is zebra . …'.

    A context has 1-4 clauses and the answer's (10-45 words); a long one has 12-14 clauses
    (over 64 sub-words) and its answer in the last third, so in a later window than the first.
    """
    count = rng.randint(12, 14) if long else rng.randint(1, 4)
    clauses = [_prefix(language, sentence(rng)) for _ in range(count)]
    key = rng.choice(QA_KEYS)
    question = _prefix(language, rng.choice(QA_QUESTIONS).format(key=key))
    if not answerable:
        return " ".join(clauses), question, None, -1
    answer = rng.choice(ANSWER_WORDS)
    at = rng.randint(2 * count // 3, count) if long else rng.randint(0, count)
    lead = _prefix(language, f"the {key} is ")
    clauses.insert(at, f"{lead}{answer} .")
    before = " ".join(clauses[:at])
    start = len(before) + (1 if before else 0) + len(lead)
    context = " ".join(clauses)
    assert context[start : start + len(answer)] == answer, (context, start, answer)
    return context, question, answer, start


def qa_rows(
    rng: random.Random,
    n: int,
    language: str = "en",
    *,
    ids: Callable[[int], str],
    title: bool = True,
    unanswerable_every: int = 0,
    repeat_answers: bool = False,
) -> dict[str, list]:
    """`n` rows in SQuAD's schema; every 8th context is long (answer in a later window)."""
    rows: dict[str, list] = {"id": [], "context": [], "question": [], "answers": []}
    if title:
        rows["title"] = []
    for i in range(n):
        answerable = not unanswerable_every or i % unanswerable_every != 1
        context, question, answer, start = qa_example(
            rng, language, answerable=answerable, long=i % 8 == 3
        )
        copies = rng.randint(1, 3) if repeat_answers else 1  # dev sets repeat annotators' spans
        rows["id"].append(ids(i))
        rows["context"].append(context)
        rows["question"].append(question)
        rows["answers"].append(
            {"text": [answer] * copies, "answer_start": [start] * copies}
            if answer is not None
            else {"text": [], "answer_start": []}
        )
        if title:
            rows["title"].append(f"Topic_{i % 7}")
    return rows


def _hex_ids(rng: random.Random, digits: int = 24) -> Callable[[int], str]:
    """Random hexadecimal ids: 24 digits as SQuAD's, 40 as MLQA's."""
    return lambda _: f"{rng.getrandbits(4 * digits):0{digits}x}"


def write_squad(root: Path) -> None:
    for split in ("train", "validation"):  # the test set is hidden
        rng = _rng("squad", split)
        n = ENGLISH_SIZES[split]
        rows = qa_rows(rng, n, ids=_hex_ids(rng), repeat_answers=split == "validation")
        _write(root, SQUAD, split, rows, qa_features())


def write_squad_v2(root: Path) -> None:
    """SQuAD 2.0: every third question is unanswerable (no answer word in its context)."""
    for split in ("train", "validation"):
        rng = _rng("squad_v2", split)
        rows = qa_rows(
            rng,
            ENGLISH_SIZES[split],
            ids=_hex_ids(rng),
            unanswerable_every=3,
            repeat_answers=split == "validation",
        )
        _write(root, SQUAD_V2, split, rows, qa_features())


def write_xquad(root: Path) -> None:
    for language in XQUAD_LANGUAGES:
        rng = _rng("xquad", language)
        rows = qa_rows(rng, OTHER_ROWS, language, ids=_hex_ids(rng), title=False)
        _write(
            root,
            xtreme_source(f"XQuAD.{language}"),
            "validation",
            rows,
            qa_features(title=False, xtreme=True),
        )


def write_mlqa(root: Path) -> None:
    for language in MLQA_LANGUAGES:
        for split in ("validation", "test"):
            rng = _rng("mlqa", language, split)
            rows = qa_rows(rng, OTHER_ROWS, language, ids=_hex_ids(rng, 40))
            source = xtreme_source(f"MLQA.{language}.{language}")
            _write(root, source, split, rows, qa_features(xtreme=True))


TYDIQA_TRAIN_OTHERS = ("ar", "bn", "fi")
"""Languages besides English in the fixture's TyDiQA train table (the loader keeps English)."""


def write_tydiqa(root: Path) -> None:
    for split in ("train", "validation"):
        parts = []
        english = ENGLISH_SIZES[split]
        others = [code for code in TYDIQA_LANGUAGES if code != "en"]
        languages = TYDIQA_TRAIN_OTHERS if split == "train" else others
        for language, n in (("en", english), *((code, OTHER_ROWS) for code in languages)):
            rng = _rng("tydiqa", split, language)
            name = TYDIQA_LANGUAGES[language]

            def ids(_: int, rng: random.Random = rng, name: str = name) -> str:
                return f"{name}-{rng.getrandbits(63)}-0"

            parts.append(qa_rows(rng, n, language, ids=ids))
        # One table for every language, interleaved as the real file is not sorted by language.
        merged = {key: [value for part in parts for value in part[key]] for key in parts[0]}
        order = list(range(len(merged["id"])))
        _rng("tydiqa", split, "order").shuffle(order)
        rows = {key: [values[i] for i in order] for key, values in merged.items()}
        _write(root, TYDIQA, split, rows, qa_features(xtreme=True))


# --- tagging ------------------------------------------------------------------------------

UPOS_LEXICON: dict[str, tuple[str, ...]] = {
    "ADJ": ("big", "small", "red", "old", "happy", "quiet"),
    "ADP": ("in", "on", "under", "near", "with"),
    "ADV": ("quickly", "slowly", "often", "very"),
    "AUX": ("will", "can", "must", "should"),
    "CCONJ": ("and", "but", "or"),
    "DET": ("the", "a", "this", "every"),
    "INTJ": ("oh", "wow", "hey"),
    "NOUN": ("dog", "cat", "river", "house", "teacher", "garden"),
    "NUM": ("two", "three", "seven", "ten"),
    "PART": ("not",),
    "PRON": ("he", "she", "they", "we"),
    "PROPN": ("Paris", "Maria", "Tokyo"),
    "PUNCT": (".", ",", "!"),
    "SCONJ": ("because", "although", "if", "while"),
    "SYM": ("$", "%", "+"),
    "VERB": ("runs", "sees", "finds", "builds", "likes"),
    "X": ("etc", "ibid"),
}
"""Every word's POS tag is a function of the word; made-up long names are PROPN."""
UPOS_PHRASES = (
    ("DET", "ADJ", "NOUN", "VERB", "ADP", "DET", "NOUN", "PUNCT"),
    ("PRON", "AUX", "PART", "VERB", "NUM", "NOUN", "PUNCT"),
    ("INTJ", "PUNCT", "PROPN", "VERB", "ADV", "CCONJ", "PRON", "VERB", "PUNCT"),
    ("SCONJ", "PRON", "VERB", "SYM", "NUM", "PUNCT", "X", "PUNCT"),
    ("PROPN", "AUX", "VERB", "DET", "ADJ", "ADJ", "NOUN", "ADV", "PUNCT"),
)
SYLLABLES = ("zor", "vak", "ul", "endr", "ix", "qua", "mib", "tel", "oph", "yrn", "gast", "umb")


def made_up_word(rng: random.Random) -> str:
    """A long capitalised word that no tokenizer has seen whole, e.g. 'Zorvakendrixoph'."""
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(4, 6))).capitalize()


def upos_sentence(rng: random.Random, *, long: bool = False) -> tuple[list[str], list[int]]:
    """(words, tag ids): 1-2 phrases, or 7-8 (about 60 words, more than 64 sub-words)."""
    words, tags = [], []
    for _ in range(rng.randint(7, 8) if long else rng.randint(1, 2)):
        for tag in rng.choice(UPOS_PHRASES):
            if tag == "PROPN" and rng.random() < 0.3:
                words.append(made_up_word(rng))
            else:
                words.append(rng.choice(UPOS_LEXICON[tag]))
            tags.append(UPOS_TAGS.index(tag))
    return words, tags


UDPOS_FEATURES = Features(
    {"tokens": List(Value("string")), "pos_tags": List(ClassLabel(names=list(UPOS_TAGS)))}
)


def write_udpos(root: Path) -> None:
    """English train/validation/test; other languages a test split only (as th, tl, yo)."""
    for language in UDPOS_LANGUAGES:
        splits = ENGLISH_SIZES if language == "en" else {"test": OTHER_ROWS}
        for split, n in splits.items():
            rng = _rng("udpos", language, split)
            rows: dict[str, list] = {"tokens": [], "pos_tags": []}
            for i in range(n):
                words, tags = upos_sentence(rng, long=i % 20 == 5)
                if language != "en":  # the language code as a foreign word (X)
                    words, tags = [language, *words], [UPOS_TAGS.index("X"), *tags]
                rows["tokens"].append(words)
                rows["pos_tags"].append(tags)
            _write(root, udpos_source(language), split, rows, UDPOS_FEATURES)


PANX_NAMES: dict[str, tuple[str, ...]] = {
    "B-PER": ("John", "Maria", "Ahmed", "Yuki", "Olga"),
    "I-PER": ("Smith", "Garcia", "Tanaka", "Petrov", "Okafor"),
    "B-ORG": ("Acme", "Globex", "Initech", "Umbrella"),
    "I-ORG": ("Corporation", "Institute", "Bank", "University"),
    "B-LOC": ("Paris", "Lagos", "Lima", "Oslo", "New", "San"),
    "I-LOC": ("York", "Diego", "Valley"),
}
"""Every entity word has one tag; made-up long first names are B-PER."""
PANX_TEMPLATES = (
    "{PER} visited {LOC} .",
    "{PER} works for {ORG} in {LOC} .",
    "the {ORG} opened an office in {LOC} .",
    "{PER} met {PER} at {ORG} .",
    "born in {LOC} , {PER} studied at {ORG} .",
    "it was a quiet day .",
)


def _panx_entity(rng: random.Random, kind: str) -> list[tuple[str, str]]:
    if kind == "PER" and rng.random() < 0.25:
        first = made_up_word(rng)
    else:
        first = rng.choice(PANX_NAMES[f"B-{kind}"])
    entity = [(first, f"B-{kind}")]
    if rng.random() < 0.6:
        entity.append((rng.choice(PANX_NAMES[f"I-{kind}"]), f"I-{kind}"))
    return entity


def panx_sentence(rng: random.Random, *, long: bool = False) -> tuple[list[str], list[int]]:
    """(words, tag ids): one clause, or 7-8 joined by ',' (about 60 words)."""
    pairs: list[tuple[str, str]] = []
    for n in range(rng.randint(7, 8) if long else 1):
        if n:
            pairs.append((",", "O"))
        for word in rng.choice(PANX_TEMPLATES).split():
            if word.startswith("{"):
                pairs += _panx_entity(rng, word.strip("{}"))
            else:
                pairs.append((word, "O"))
    return [w for w, _ in pairs], [PANX_TAGS.index(t) for _, t in pairs]


PANX_FEATURES = Features(
    {
        "tokens": List(Value("string")),
        "ner_tags": List(ClassLabel(names=list(PANX_TAGS))),
        "langs": List(Value("string")),
    }
)


def write_panx(root: Path) -> None:
    """English train/validation/test; other languages validation and test."""
    for language in PANX_LANGUAGES:
        if language == "en":
            splits = ENGLISH_SIZES
        else:
            splits = {"validation": OTHER_ROWS, "test": OTHER_ROWS}
        for split, n in splits.items():
            rng = _rng("panx", language, split)
            rows: dict[str, list] = {"tokens": [], "ner_tags": [], "langs": []}
            for i in range(n):
                words, tags = panx_sentence(rng, long=i % 20 == 5)
                if language != "en":
                    words, tags = [language, *words], [0, *tags]
                rows["tokens"].append(words)
                rows["ner_tags"].append(tags)
                rows["langs"].append([language] * len(words))
            _write(root, panx_source(language), split, rows, PANX_FEATURES)


# --- CCGbank ------------------------------------------------------------------------------

# word class -> (category, POS, predicate-argument category, words)
CCG_LEXICON: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "det": ("NP[nb]/N", "DT", "NP[nb]_1/N_1", ("the", "a", "every")),
    "adj": ("N/N", "JJ", "N_1/N_1", ("big", "old", "red", "happy", "quiet")),
    "noun": ("N", "NN", "N", ("dog", "cat", "farmer", "market", "letter", "river")),
    "name": ("N", "NNP", "N", ("Pierre", "Vinken", "Maria", "Elsevier")),
    "tv": ("(S[dcl]\\NP)/NP", "VBD", "(S[dcl]\\NP_2)/NP_3", ("saw", "liked", "found", "bought")),
    "iv": ("S[dcl]\\NP", "VBD", "S[dcl]\\NP_1", ("slept", "laughed", "left")),
    "adv": ("(S\\NP)\\(S\\NP)", "RB", "(S_1\\NP_2)_1\\(S_1\\NP_2)_1", ("quickly", "today")),
    "prep": ("((S\\NP)\\(S\\NP))/NP", "IN", "((S_1\\NP_2)_1\\(S_1\\NP_2)_1)/NP_3", ("in", "near")),
    "dtv": ("((S[dcl]\\NP)/NP)/NP", "VBD", "((S[dcl]\\NP_1)/NP_2)/NP_3", ("gave", "sent")),
}
CCG_UNSEEN_IN_TRAIN = CCG_LEXICON["dtv"][0]
"""The ditransitive verbs' supertag occurs in dev (section 00) only, never in training."""


def _leaf(kind: str, rng: random.Random) -> str:
    category, pos, predarg, words = CCG_LEXICON[kind]
    return f"(<L {category} {pos} {pos} {rng.choice(words)} {predarg}>)"


def _ccg_nbar(rng: random.Random, adjectives: int) -> str:
    if adjectives == 0:
        return _leaf("noun", rng)
    return f"(<T N 1 2> {_leaf('adj', rng)} {_ccg_nbar(rng, adjectives - 1)} )"


def _ccg_np(rng: random.Random, adjectives: int = -1) -> str:
    if adjectives < 0 and rng.random() < 0.3:
        return f"(<T NP 0 1> {_leaf('name', rng)} )"
    count = adjectives if adjectives >= 0 else rng.choice((0, 0, 1, 2))
    return f"(<T NP 0 2> {_leaf('det', rng)} {_ccg_nbar(rng, count)} )"


def ccg_derivation(rng: random.Random, *, ditransitive: bool = False, long: bool = False) -> str:
    """One sentence's derivation in CCGbank AUTO syntax, e.g. 'Pierre saw the dog quickly .'"""
    if ditransitive:
        inner = f"(<T (S[dcl]\\NP)/NP 0 2> {_leaf('dtv', rng)} {_ccg_np(rng)} )"
        vp = f"(<T S[dcl]\\NP 0 2> {inner} {_ccg_np(rng)} )"
    elif rng.random() < 0.6:
        vp = f"(<T S[dcl]\\NP 0 2> {_leaf('tv', rng)} {_ccg_np(rng)} )"
    else:
        vp = _leaf("iv", rng)
    modifiers = rng.randint(9, 11) if long else rng.choice((0, 0, 1, 2))
    for _ in range(modifiers):
        if rng.random() < 0.4:
            modifier = _leaf("adv", rng)
        else:
            np = _ccg_np(rng, rng.randint(0, 3) if long else -1)
            modifier = f"(<T (S\\NP)\\(S\\NP) 0 2> {_leaf('prep', rng)} {np} )"
        vp = f"(<T S[dcl]\\NP 0 2> {vp} {modifier} )"
    subject = _ccg_np(rng, 3 if long else -1)
    return f"(<T S[dcl] 0 2> (<T S[dcl] 1 2> {subject} {vp} ) (<L . . . . .>) )"


CCG_SECTIONS: dict[str, int] = {
    **{f"{n:02d}": 2 for n in range(4, 22)},
    "02": 170,
    "03": 150,
    "00": 72,
    "23": 30,
}
"""Sentences per section: train 02-21 (most in 02 and 03), dev 00, test 23."""


def write_ccgbank(root: Path) -> None:
    """CCGbank AUTO files: ``data/AUTO/SS/wsj_SSFF.auto``, two files per section."""
    for section, n in CCG_SECTIONS.items():
        rng = _rng("ccg", section)
        folder = root / CCGBANK.repo / "data" / "AUTO" / section
        folder.mkdir(parents=True, exist_ok=True)
        files: dict[str, list[str]] = {f"wsj_{section}{f:02d}": [] for f in (1, 2)}
        for i in range(n):
            name = f"wsj_{section}{1 + i * 2 // n:02d}"
            number = len(files[name]) // 2 + 1
            derivation = ccg_derivation(
                rng, ditransitive=section == "00" and i % 6 == 2, long=i % 25 == 10
            )
            files[name] += [f"ID={name}.{number} PARSER=GOLD NUMPARSE=1", derivation]
        for name, lines in files.items():
            if lines:
                (folder / f"{name}.auto").write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- multiple choice ----------------------------------------------------------------------


def choices_with_marker(
    rng: random.Random, k: int, make: Callable[[random.Random], str]
) -> tuple[list[str], int]:
    """`k` choices from `make`; the right one (at a random index) carries the marker word."""
    label = rng.randrange(k)
    choices = [make(rng) for _ in range(k)]
    choices[label] = with_marker(rng, choices[label])
    return choices, label


HELLASWAG_FEATURES = Features(
    {
        "ind": Value("int32"),
        "activity_label": Value("string"),
        "ctx_a": Value("string"),
        "ctx_b": Value("string"),
        "ctx": Value("string"),
        "endings": List(Value("string")),
        "source_id": Value("string"),
        "split": Value("string"),
        "split_type": Value("string"),
        "label": Value("string"),
    }
)
ACTIVITIES = ("Cooking", "Gardening", "Painting", "Fishing", "Cleaning")


def write_hellaswag(root: Path) -> None:
    """HellaSwag: `ctx_b` opens the unfinished sentence that each ending completes."""
    short = {"train": "train", "validation": "val", "test": "test"}
    for split, n in ENGLISH_SIZES.items():
        rng = _rng("hellaswag", split)
        rows: dict[str, list] = {k: [] for k in HELLASWAG_FEATURES}
        for i in range(n):
            ctx_a = sentence(rng).capitalize()
            ctx_b = "" if i % 10 == 4 else rng.choice(SUBJECTS)  # some rows have no ctx_b
            endings, label = choices_with_marker(rng, 4, lambda r: f"{r.choice(ACTIONS)} .")
            rows["ind"].append(i * 3 + 1)
            rows["activity_label"].append(rng.choice(ACTIVITIES))
            rows["ctx_a"].append(ctx_a)
            rows["ctx_b"].append(ctx_b)
            rows["ctx"].append(f"{ctx_a} {ctx_b}".strip())
            rows["endings"].append(endings)
            rows["source_id"].append(f"activitynet~v_{rng.getrandbits(40):010x}")
            rows["split"].append(short[split])
            rows["split_type"].append("indomain" if i % 2 else "zeroshot")
            rows["label"].append("" if split == "test" else str(label))
        _write(root, HELLASWAG, split, rows, HELLASWAG_FEATURES)


COMMONSENSE_QA_FEATURES = Features(
    {
        "id": Value("string"),
        "question": Value("string"),
        "question_concept": Value("string"),
        "choices": {"label": List(Value("string")), "text": List(Value("string"))},
        "answerKey": Value("string"),
    }
)
CONCEPT_WORDS = ("basket", "river", "lamp", "bread", "letter", "coat", "garden", "bridge")


def write_commonsense_qa(root: Path) -> None:
    keys = ["A", "B", "C", "D", "E"]
    for split, n in ENGLISH_SIZES.items():
        rng = _rng("commonsense_qa", split)
        rows: dict[str, list] = {k: [] for k in COMMONSENSE_QA_FEATURES}
        for _ in range(n):
            concept = rng.choice(CONCEPT_WORDS)
            texts, label = choices_with_marker(
                rng, 5, lambda r: f"{r.choice(('the', 'a', 'some'))} {r.choice(CONCEPT_WORDS)}"
            )
            rows["id"].append(f"{rng.getrandbits(128):032x}")
            rows["question"].append(f"where would {rng.choice(SUBJECTS)} keep the {concept} ?")
            rows["question_concept"].append(concept)
            rows["choices"].append({"label": keys, "text": texts})
            rows["answerKey"].append("" if split == "test" else keys[label])
        _write(root, COMMONSENSE_QA, split, rows, COMMONSENSE_QA_FEATURES)


COSMOS_QA_FEATURES = Features(
    {
        **{k: Value("string") for k in ("id", "context", "question")},
        **{f"answer{i}": Value("string") for i in range(4)},
        "label": Value("int32"),
    }
)


def write_cosmos_qa(root: Path) -> None:
    for split in ("train", "validation"):
        rng = _rng("cosmos_qa", split)
        rows: dict[str, list] = {k: [] for k in COSMOS_QA_FEATURES}
        for _ in range(ENGLISH_SIZES[split]):
            answers, label = choices_with_marker(
                rng, 4, lambda r: f"{r.choice(SUBJECTS)} {r.choice(ACTIONS)} ."
            )
            rows["id"].append(f"3{rng.getrandbits(100):025X}##{rng.getrandbits(40):010X}")
            rows["context"].append(" ".join(sentence(rng) for _ in range(rng.randint(2, 3))))
            rows["question"].append(rng.choice(("what may happen next ?", "why did they go ?")))
            for i, answer in enumerate(answers):
                rows[f"answer{i}"].append(answer)
            rows["label"].append(label)
        _write(root, COSMOS_QA, split, rows, COSMOS_QA_FEATURES)


SIQA_FEATURES = Features(
    {k: Value("string") for k in ("context", "question", "answerA", "answerB", "answerC", "label")}
)


def write_social_i_qa(root: Path) -> None:
    for split in ("train", "validation"):
        rng = _rng("social_i_qa", split)
        rows: dict[str, list] = {k: [] for k in SIQA_FEATURES}
        for _ in range(ENGLISH_SIZES[split]):
            answers, label = choices_with_marker(rng, 3, lambda r: r.choice(ACTIONS))
            rows["context"].append(sentence(rng).capitalize())
            rows["question"].append(rng.choice(("What will happen next?", "Why did they do it?")))
            for key, answer in zip(("answerA", "answerB", "answerC"), answers, strict=True):
                rows[key].append(answer)
            rows["label"].append(str(label + 1))  # "1".."3"
        _write(root, SIQA, split, rows, SIQA_FEATURES)


def _copa_rows(rng: random.Random, n: int, language: str, labelled: bool) -> dict[str, list]:
    rows: dict[str, list] = {
        "premise": [], "choice1": [], "choice2": [], "question": [], "label": [], "idx": [],
    }  # fmt: skip
    for i in range(n):
        choices, label = choices_with_marker(rng, 2, lambda r: f"{r.choice(SUBJECTS)} left .")
        rows["premise"].append(_prefix(language, sentence(rng)))
        rows["choice1"].append(_prefix(language, choices[0]))
        rows["choice2"].append(_prefix(language, choices[1]))
        rows["question"].append(rng.choice(("cause", "effect")))
        rows["label"].append(label if labelled else -1)
        rows["idx"].append(i)
    return rows


COPA_FEATURES = Features(
    {
        **{k: Value("string") for k in ("premise", "choice1", "choice2", "question")},
        "idx": Value("int32"),
        "label": ClassLabel(names=["choice1", "choice2"]),
    }
)


def write_copa(root: Path) -> None:
    for split, n in ENGLISH_SIZES.items():
        rows = _copa_rows(_rng("copa", split), n, "en", labelled=split != "test")
        _write(root, COPA, split, rows, COPA_FEATURES)


XCOPA_FEATURES = Features(
    {
        **{k: Value("string") for k in ("premise", "choice1", "choice2", "question")},
        "label": Value("int32"),
        "idx": Value("int32"),
        "changed": Value("bool"),
    }
)


def write_xcopa(root: Path) -> None:
    for language in XCOPA_LANGUAGES:
        for split in ("validation", "test"):
            rng = _rng("xcopa", language, split)
            rows = _copa_rows(rng, OTHER_ROWS, language, labelled=True)
            rows["changed"] = [rng.random() < 0.1 for _ in rows["idx"]]
            _write(root, xcopa_source(language), split, rows, XCOPA_FEATURES)


# --- retrieval: Tatoeba (hub schema) and BUCC 2018 (shared-task files) -----------------------
# No training: an encoder's mean-pooled embeddings find a translation here because the "other
# language" side repeats the English words behind a language prefix, while rows differ.

TATOEBA_ROWS = 30
TATOEBA_FEATURES = Features({name: Value("string") for name in TATOEBA_COLUMNS})


def write_tatoeba(root: Path) -> None:
    """XTREME's layout: the other language as source, English as target, newline-terminated."""
    for language, iso3 in TATOEBA_LANGUAGES.items():
        rng = _rng("tatoeba", language)
        # A made-up name per row (shared by both sides) tells the rows apart.
        english = [f"{made_up_word(rng)} {sentence(rng)}" for _ in range(TATOEBA_ROWS)]
        rows = {
            "source_sentence": [f"{language} {text}\n" for text in english],
            "target_sentence": [f"{text}\n" for text in english],
            "source_lang": [iso3] * TATOEBA_ROWS,
            "target_lang": ["eng"] * TATOEBA_ROWS,
        }
        _write(root, tatoeba_source(language), "validation", rows, TATOEBA_FEATURES)


BUCC_SIZES = {"sample": 40, "training": 60}  # English sentences per split; half have a pair


def write_bucc(root: Path) -> None:
    """`bucc2018/{lang}-en/{lang}-en.{split}.{lang,en,gold}`: tab-separated id and sentence.

    Half of the English sentences have a translation (the same words behind a language
    prefix) among the other side's sentences; the rest of that side are unrelated sentences,
    and one translation appears twice under two ids (the mining must map both to the pair).
    """
    for language in BUCC_LANGUAGES:
        folder = root / BUCC.repo / f"{language}-en"
        folder.mkdir(parents=True, exist_ok=True)
        for split, n in BUCC_SIZES.items():
            rng = _rng("bucc", language, split)
            english = [f"{made_up_word(rng)} {sentence(rng)}" for _ in range(n)]
            others = [f"{language} {text}" for text in english[: n // 2]]
            others += [f"{language} {made_up_word(rng)} {sentence(rng)}" for _ in range(n // 2)]
            others.append(others[0])  # a duplicate sentence with its own id
            order = list(range(len(others)))
            rng.shuffle(order)
            ids = {index: f"{language}-{position:09d}" for position, index in enumerate(order)}
            gold = [(ids[i], f"en-{i:09d}") for i in range(n // 2)]
            gold.append((ids[len(others) - 1], "en-000000000"))
            lines = {
                "en": [f"en-{i:09d}\t{text}" for i, text in enumerate(english)],
                language: [f"{ids[i]}\t{others[i]}" for i in order],
                "gold": [f"{s}\t{t}" for s, t in sorted(gold)],
            }
            for suffix, content in lines.items():
                path = folder / f"{language}-en.{split}.{suffix}"
                path.write_text("\n".join(content) + "\n", encoding="utf-8")


# --- masked LM: plain text per language ---------------------------------------------------
# Every document repeats one word of its language's own, so a masked word is the word around
# it: a tiny random model learns that (copying from the context) in a few hundred steps,
# while word order (say, a fixed cycle of words) it barely starts to learn in as many.

MLM_LINES = 40
"""Documents per language: 36 train, 2 dev and 2 test (the 19th and 20th of every 20)."""
MLM_WORDS = 6
MLM_BLANK_AFTER = {3: "", 21: "   "}
"""Lines that hold no document (the loader skips them), after the document of that index."""


def mlm_words(language: str) -> list[str]:
    """`MLM_WORDS` made-up words of `language`'s own (it prefixes them), e.g. 'arzorvak'."""
    rng = _rng("mlm", language)
    pairs = rng.sample([(a, b) for a in SYLLABLES for b in SYLLABLES if a != b], MLM_WORDS)
    return [f"{language}{a}{b}" for a, b in pairs]


def mlm_documents(language: str) -> list[str]:
    """One word of the language's repeated 20-40 times per document."""
    rng, words = _rng("mlm documents", language), mlm_words(language)
    return [" ".join([rng.choice(words)] * rng.randint(20, 40)) for _ in range(MLM_LINES)]


def write_mlm_text(root: Path) -> None:
    """`stilts-mlm/text/<language>.txt` for every language of mlm: one document per line."""
    for language in mlm_task.languages:
        lines = []
        for index, document in enumerate(mlm_documents(language)):
            lines.append(document)
            if index in MLM_BLANK_AFTER:
                lines.append(MLM_BLANK_AFTER[index])
        path = root / MLM_TEXT.repo / MLM_TEXT.pattern(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- UD English EWT: CoNLL-U dependency trees ---------------------------------------------
# Sentences of a small grammar whose every arc follows from the words: a determiner,
# possessive or adjective attaches to the next noun; the first noun phrase is the verb's
# subject and the one after it its object; a noun after in/near/on is an oblique of the verb,
# after "of" a modifier of the noun before. Some sentences hold a multiword token ("didn't")
# and some a gapped second clause ("… and the cook the letter") with an empty node for the
# missing verb, as EWT's enhanced graphs have: the loader must skip both kinds of line.

UD_LEXICON: dict[str, tuple[str, str, tuple[str, ...]]] = {  # class -> (UPOS, XPOS, words)
    "det": ("DET", "DT", ("the", "a", "every")),
    "poss": ("PRON", "PRP$", ("my", "his", "her", "their")),
    "adj": ("ADJ", "JJ", ("old", "red", "small", "happy", "quiet")),
    "noun": ("NOUN", "NN", ("farmer", "cook", "key", "letter", "bottle", "lamp", "river")),
    "name": ("PROPN", "NNP", ("Maria", "John", "Oslo", "Ahmed")),
    "aux": ("AUX", "MD", ("will", "can", "must")),
    "adp": ("ADP", "IN", ("in", "near", "on")),
    "adv": ("ADV", "RB", ("quickly", "again", "slowly")),
}
UD_VERBS = (("bought", "buy"), ("found", "find"), ("sold", "sell"), ("opened", "open"))
UD_UNSEEN_IN_TRAIN = "obl:npmod"
"""The relation of "today" in some dev sentences, never in training (which has obl:tmod)."""
UD_SIZES = {"train": 800, "dev": 72, "test": 24}

UDWord = list  # [form, lemma, UPOS, XPOS, head index (0-based; -1: the root), DEPREL]
VERB = -2
"""A head not placed yet (the verb, or the noun after a preposition): set once it is."""


def _ud_word(kind: str, rng: random.Random, head: int, deprel: str) -> UDWord:
    upos, xpos, words = UD_LEXICON[kind]
    form = rng.choice(words)
    return [form, form, upos, xpos, head, deprel]  # every word here is its own lemma


def _ud_nominal(rng: random.Random, words: list[UDWord], head: int, deprel: str) -> int:
    """Append a noun phrase attached to `head`; return the index of its noun."""
    if rng.random() < 0.25:
        words.append(_ud_word("name", rng, head, deprel))
        return len(words) - 1
    adjectives = rng.choice((0, 0, 1, 2))
    noun = len(words) + 1 + adjectives
    if rng.random() < 0.3:
        words.append(_ud_word("poss", rng, noun, "nmod:poss"))
    else:
        words.append(_ud_word("det", rng, noun, "det"))
    words += [_ud_word("adj", rng, noun, "amod") for _ in range(adjectives)]
    words.append(_ud_word("noun", rng, head, deprel))
    return noun


def ud_sentence(
    rng: random.Random, *, gapped: bool = False, unseen: bool = False, long: bool = False
) -> tuple[list[UDWord], int | None, int | None]:
    """(words, index of a multiword token's first word or None, index of the word an empty
    node follows or None): one clause, 0-2 obliques (9-11 when long)."""
    words: list[UDWord] = []
    _ud_nominal(rng, words, VERB, "nsubj")
    contracted, choice = None, rng.random()
    if choice < 0.25:
        contracted = len(words)
        words.append(["did", "do", "AUX", "VBD", VERB, "aux"])
        words.append(["n't", "not", "PART", "RB", VERB, "advmod"])
    elif choice < 0.5:
        words.append(_ud_word("aux", rng, VERB, "aux"))
    verb = len(words)
    past, lemma = rng.choice(UD_VERBS)
    bare = choice < 0.5  # after an auxiliary
    words.append([lemma if bare else past, lemma, "VERB", "VB" if bare else "VBD", -1, "root"])
    for word in words:
        word[4] = verb if word[4] == VERB else word[4]
    obj = _ud_nominal(rng, words, verb, "obj")
    if rng.random() < 0.3:
        _ud_phrase(rng, words, "of", obj, "nmod")
    for _ in range(rng.randint(9, 11) if long else rng.randint(0, 2)):
        _ud_phrase(rng, words, rng.choice(UD_LEXICON["adp"][2]), verb, "obl")
    if rng.random() < 0.3:
        words.append(_ud_word("adv", rng, verb, "advmod"))
    elif rng.random() < 0.3:
        relation = UD_UNSEEN_IN_TRAIN if unseen else "obl:tmod"
        words.append(["today", "today", "NOUN", "NN", verb, relation])
    empty_after = None
    if gapped:  # "… and the cook the letter": the second verb is elided
        conjunction = len(words)
        words.append(["and", "and", "CCONJ", "CC", VERB, "cc"])
        empty_after = words[conjunction][4] = _ud_nominal(rng, words, verb, "conj")
        _ud_nominal(rng, words, empty_after, "orphan")
    words.append([".", ".", "PUNCT", ".", verb, "punct"])
    return words, contracted, empty_after


def _ud_phrase(
    rng: random.Random, words: list[UDWord], preposition: str, head: int, deprel: str
) -> None:
    """Append a prepositional phrase whose noun attaches to `head`."""
    case = len(words)
    words.append([preposition, preposition, "ADP", "IN", VERB, "case"])
    words[case][4] = _ud_nominal(rng, words, head, deprel)


def conllu_sentence(
    sent_id: str, words: list[UDWord], contracted: int | None, empty_after: int | None
) -> str:
    """One sentence in CoNLL-U: comments, ten tab-separated columns per line, a blank line."""
    tokens, i = [], 0
    while i < len(words):  # the surface tokens, for `# text`
        step = 2 if i == contracted else 1
        tokens.append("".join(word[0] for word in words[i : i + step]))
        i += step
    text = " ".join(tokens[:-1]) + tokens[-1]  # no space before the full stop
    lines = [f"# sent_id = {sent_id}", f"# text = {text}"]
    root = next(n for n, word in enumerate(words, start=1) if word[4] == -1)
    for i, (form, lemma, upos, xpos, head, deprel) in enumerate(words, start=1):
        if i - 1 == contracted:
            lines.append(_conllu_line(f"{i}-{i + 1}", f"{form}{words[i][0]}", *"_" * 8))
        misc = "SpaceAfter=No" if i == len(words) - 1 else "_"
        enhanced = f"{head + 1}:{deprel}"
        lines.append(
            _conllu_line(i, form, lemma, upos, xpos, "_", head + 1, deprel, enhanced, misc)
        )
        if i - 1 == empty_after:  # the elided verb, a copy of the root, in the enhanced graph
            _, verb_lemma, _, verb_xpos, _, _ = words[root - 1]
            copy = (words[root - 1][0], verb_lemma, "VERB", verb_xpos, "_", "_", "_")
            lines.append(_conllu_line(f"{i}.1", *copy, f"{root}:conj:and", f"CopyOf={root}"))
    return "\n".join(lines) + "\n\n"


def _conllu_line(*columns: object) -> str:
    assert len(columns) == 10, columns
    return "\t".join(map(str, columns))


def write_ud_ewt(root: Path) -> None:
    """`en_ewt-ud-{train,dev,test}.conllu` where a clone of UD_English-EWT keeps them."""
    folder = root / UD_EWT.repo
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in UD_SIZES.items():
        rng = _rng("ud_ewt", split)
        blocks = [f"# newdoc id = fixture-{split}\n"]
        for i in range(n):
            words, contracted, empty_after = ud_sentence(
                rng, gapped=i % 5 == 3, unseen=split == "dev" and i % 6 == 2, long=i % 25 == 10
            )
            blocks.append(
                conllu_sentence(f"fixture-{split}-{i:04d}", words, contracted, empty_after)
            )
        path = folder / UD_EWT.pattern(split)
        path.write_text("".join(blocks), encoding="utf-8")


XNLI_FEATURES = Features(  # facebook/xnli: one config per language
    {
        "premise": Value("string"),
        "hypothesis": Value("string"),
        "label": ClassLabel(names=["entailment", "neutral", "contradiction"]),
    }
)


def translated(table: datasets.Dataset, language: str) -> datasets.Dataset:
    """The sample's MNLI rows "translated": marked by a language word, labels unchanged."""
    return datasets.Dataset.from_dict(
        {
            "premise": [f"{language} {text}" for text in table["premise"]],
            "hypothesis": [f"{language} {text}" for text in table["hypothesis"]],
            "label": table["label"],
        },
        features=XNLI_FEATURES,
    )


def write_translated_sample(root: Path, languages: tuple[str, ...]) -> Path:
    """The bundled sample plus facebook/xnli's translated MNLI train in `languages`."""
    shutil.copytree(SAMPLE_DATA, root, dirs_exist_ok=True)
    english = DataLocator(SAMPLE_DATA).load(GLUE_MNLI, "train")
    for language in languages:
        write_table(root, xnli_translation(language), "train", translated(english, language))
    return root
