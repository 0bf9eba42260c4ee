"""Synthetic Mewsli-X and LAReQA (XQuAD-R) data in the official file formats and local layout.

* Mewsli-X: ``root/google-research/mewsli-x/{candidate_set_entities.jsonl,
  wikinews_mentions-dev.jsonl, wikinews_mentions-test.jsonl}``, one JSON object per line as
  google-research ``mel/mewsli_x/schema.py`` ``to_json`` writes them (key order included;
  ``ensure_ascii=False``): entities with ``sentence_spans`` as ``{"start", "end"}`` objects, and
  one WikiNews article per line with its mentions (``testdata/example_mentions.jsonl`` there).
* XQuAD-R: ``root/google-research-datasets/lareqa/xquad-r/{lang}.json``, SQuAD v1.1 JSON whose
  paragraphs also hold ``sentence_breaks`` and ``sentences``, keys sorted and non-ASCII escaped
  as in google-research-datasets/lareqa.

`write_mewslix` and `write_lareqa` write reproducible data for every official language;
`write_mewslix_files` and `write_xquad_r` serialise hand-made records, for constructed cases.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from stilts.tasks.plugins.xtreme_r_retrieval import (
    LAREQA,
    LAREQA_LANGUAGES,
    MEWSLIX_CANDIDATES,
    MEWSLIX_LANGUAGES,
    MEWSLIX_MENTIONS,
)

MEWSLIX_SPLITS = ("dev", "test")
ENTITIES_PER_SPLIT = 12  # the gold entities of dev and test differ, as Mewsli-X splits by QID
DISTRACTORS = 8  # candidate entities no mention refers to
ARTICLES = 2  # per language and split, each with two mentions
DESCRIPTION_LANGUAGES = ("en", "de", "ja", "es", "ar")  # descriptions are multilingual

XQUAD_R_PASSAGES = 2
PARAGRAPHS = 2  # per passage, each with three sentences and two questions
SKIPPED_LANGUAGE = "th"
LAST_PARAGRAPH = (XQUAD_R_PASSAGES - 1, PARAGRAPHS - 1)
"""In SKIPPED_LANGUAGE the last paragraph's breaks miss its last sentence (a sentence-breaking
error), so the question answered there is skipped in that language, as
``utils_lareqa.generate_examples`` skips such questions."""

_SYLLABLES = ("ka", "lo", "mi", "ru", "ten", "vos", "zar", "pel", "qui", "dun", "bri", "sha")
_KINDS = ("river", "painter", "city", "festival", "company", "mountain", "poet", "league")
_VERBS = ("visited", "opened", "crossed", "praised", "closed", "joined")


def _rng(*parts: object) -> random.Random:
    return random.Random("/".join(map(str, parts)))


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(3)).capitalize()


def _prefix(language: str, text: str) -> str:
    return text if language == "en" else f"{language} {text}"


def _spans(starts_ends: Iterable[tuple[int, int]]) -> list[dict[str, int]]:
    return [{"start": start, "end": end} for start, end in starts_ends]


def _join(sentences: Sequence[str], separators: Sequence[str]) -> tuple[str, list[tuple]]:
    """Text of `sentences` with `separators[i]` before sentence i, and each sentence's span."""
    text, spans = "", []
    for sentence, separator in zip(sentences, separators, strict=True):
        text += separator
        spans.append((len(text), len(text) + len(sentence)))
        text += sentence
    return text, spans


# --- Mewsli-X --------------------------------------------------------------------------------


def entity_record(
    entity_id: str, title: str, sentences: Sequence[str], language: str = "en"
) -> dict:
    """A candidate entity as ``Entity.to_json`` writes it (sentences joined by single spaces)."""
    description, spans = _join(sentences, [""] + [" "] * (len(sentences) - 1))
    return {
        "entity_id": entity_id,
        "title": title,
        "description": description,
        "description_language": language,
        "description_url": f"https://{language}.wikipedia.org/wiki/{title.replace(' ', '_')}",
        "sentence_spans": _spans(spans),
    }


def article_record(
    language: str,
    number: int,
    title: str,
    sentences: Sequence[str],
    mentions: Sequence[tuple[str, str, str]],
) -> dict:
    """A WikiNews article with its mentions, as ``ContextualMentions.to_json`` writes it.

    The title is the first sentence (followed by a blank line, as the restored articles are);
    `mentions` are (example_id, surface text, entity_id), each located at its first occurrence
    after the title.
    """
    text, spans = _join([title, *sentences], ["", "\n\n"] + [" "] * (len(sentences) - 1))
    records = []
    for example_id, surface, entity_id in mentions:
        start = text.index(surface, spans[1][0])
        records.append(
            {
                "example_id": example_id,
                "mention_span": {"start": start, "end": start + len(surface), "text": surface},
                "entity_id": entity_id,
                "metadata": {
                    "curid": str(number),
                    "revid": str(10 * number + 1),
                    "text_md5": hashlib.md5(text.encode()).hexdigest(),
                    "mention_url": f"http://{language}.wikipedia.org/wiki/{surface}",
                    "bin_name": "bin02_10-100",
                },
            }
        )
    return {
        "context": {
            "document_title": title,
            "document_url": f"https://{language}.wikinews.org/wiki?curid={number}",
            "document_id": f"{language}-{number}",
            "language": language,
            "text": text,
            "sentence_spans": _spans(spans),
        },
        "mentions": records,
    }


def _jsonl(path: Path, records: Iterable[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = (json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    path.write_text("".join(lines), encoding="utf-8")


def mewslix_dir(root: Path) -> Path:
    return Path(root) / MEWSLIX_CANDIDATES.repo


def write_mewslix_files(
    root: Path, entities: Sequence[dict], articles: dict[str, Sequence[dict]]
) -> Path:
    """Write the candidate set and the mentions file of each split in `articles`."""
    folder = mewslix_dir(root)
    _jsonl(folder / MEWSLIX_CANDIDATES.pattern("test"), entities)
    for split, records in articles.items():
        _jsonl(folder / MEWSLIX_MENTIONS.pattern(split), records)
    return folder


def mewslix_example_id(split: str, language: str, article: int, mention: int) -> str:
    return hashlib.md5(f"{split}/{language}/{article}/{mention}".encode()).hexdigest()


def write_mewslix(root: Path) -> Path:
    """Every Mewsli-X language in dev and test: each mention's sentence names its entity and
    says one thing its description says, in the article's language."""
    rng = _rng("mewslix")
    total = ENTITIES_PER_SPLIT * len(MEWSLIX_SPLITS) + DISTRACTORS
    names = list(dict.fromkeys(_name(rng) for _ in range(10 * total)))[:total]
    kinds = [rng.choice(_KINDS) for _ in names]
    entities = [
        entity_record(
            f"Q{1000 + i}",
            name,
            [f"{name} is a {kind} in the north.", f"It was named in {1800 + 7 * i}."],
            DESCRIPTION_LANGUAGES[i % len(DESCRIPTION_LANGUAGES)],
        )
        for i, (name, kind) in enumerate(zip(names, kinds, strict=True))
    ]
    rng.shuffle(entities)  # the file is not ordered by anything a model could exploit
    articles: dict[str, list[dict]] = {}
    for s, split in enumerate(MEWSLIX_SPLITS):
        gold = range(s * ENTITIES_PER_SPLIT, (s + 1) * ENTITIES_PER_SPLIT)
        split_rng = _rng("mewslix", split)
        records = []
        for language in MEWSLIX_LANGUAGES:
            for a in range(ARTICLES):
                number = 100 * (s + 1) + 10 * MEWSLIX_LANGUAGES.index(language) + a
                first, second = split_rng.sample(list(gold), 2)
                verb = split_rng.choice(_VERBS)
                sentences = [
                    _prefix(language, f"Officials {verb} the {kinds[first]} {names[first]}."),
                    _prefix(language, f"Later the {kinds[second]} {names[second]} was seen."),
                ]
                mentions = [
                    (mewslix_example_id(split, language, a, m), names[i], f"Q{1000 + i}")
                    for m, i in enumerate((first, second))
                ]
                title = _prefix(language, f"News of {names[first]}")
                records.append(article_record(language, number, title, sentences, mentions))
        articles[split] = records
    return write_mewslix_files(root, entities, articles)


def mewslix_texts(root: Path) -> list[str]:
    """Every text of the written Mewsli-X files (for training a tiny tokenizer)."""
    folder = mewslix_dir(root)
    texts = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            texts.append(
                record["context"]["text"] if "context" in record else record["description"]
            )
    return texts


# --- LAReQA (XQuAD-R) ------------------------------------------------------------------------


def xquad_r_paragraph(
    sentences: Sequence[str],
    questions: Sequence[tuple[str, str, int, str]],
    breaks: Sequence[tuple[int, int]] | None = None,
) -> dict:
    """A paragraph: sentences joined by single spaces; `questions` are (id, question, index of
    the answer's sentence, answer text inside it); `breaks` default to every sentence."""
    context, spans = _join(sentences, [""] + [" "] * (len(sentences) - 1))
    qas = []
    for qid, question, index, answer in questions:
        start = spans[index][0] + sentences[index].index(answer)
        qas.append(
            {"answers": [{"answer_start": start, "text": answer}], "id": qid, "question": question}
        )
    breaks = list(spans if breaks is None else breaks)
    return {
        "context": context,
        "qas": qas,
        "sentence_breaks": [list(pair) for pair in breaks],
        "sentences": [context[start:end] for start, end in breaks],
    }


def write_xquad_r(root: Path, language: str, passages: Sequence[tuple[str, list[dict]]]) -> Path:
    """One language's file: `passages` are (title, paragraphs), in SQuAD v1.1 JSON."""
    path = Path(root) / LAREQA.repo / LAREQA.pattern(language)
    path.parent.mkdir(parents=True, exist_ok=True)
    squad = {
        "data": [{"paragraphs": paragraphs, "title": title} for title, paragraphs in passages],
        "version": "1.1",
    }
    path.write_text(json.dumps(squad, sort_keys=True), encoding="utf-8")
    return path


def xquad_r_question_id(passage: int, paragraph: int, question: int) -> str:
    """A SQuAD-like 24-hex id, shared by the 11 translations of a question."""
    return hashlib.sha1(f"{passage}/{paragraph}/{question}".encode()).hexdigest()[:24]


def write_lareqa(root: Path) -> Path:
    """11-way parallel XQuAD-R: the same paragraphs and questions in every language (behind a
    language prefix); each question asks for the name in one sentence of its paragraph."""
    rng = _rng("lareqa")
    passages = []
    for p in range(XQUAD_R_PASSAGES):
        paragraphs = []
        for g in range(PARAGRAPHS):
            names = [_name(rng) for _ in range(3)]
            verbs = [rng.choice(_VERBS) for _ in range(3)]
            asked = rng.sample(range(3), 2)
            if g == PARAGRAPHS - 1:  # its second question asks about the last sentence
                asked = [rng.choice((0, 1)), 2]
            paragraphs.append((names, verbs, asked))
        passages.append((f"Passage_{p}", paragraphs))
    for language in LAREQA_LANGUAGES:
        written = []
        for p, (title, paragraphs) in enumerate(passages):
            built = []
            for g, (names, verbs, asked) in enumerate(paragraphs):
                sentences = [
                    _prefix(language, f"In {1900 + 10 * i} {name} {verb} the old harbour.")
                    for i, (name, verb) in enumerate(zip(names, verbs, strict=True))
                ]
                questions = [
                    (
                        xquad_r_question_id(p, g, q),
                        _prefix(language, f"Who {verbs[i]} the harbour in {1900 + 10 * i}?"),
                        i,
                        names[i],
                    )
                    for q, i in enumerate(asked)
                ]
                breaks = None
                if language == SKIPPED_LANGUAGE and (p, g) == LAST_PARAGRAPH:
                    _, spans = _join(sentences, ["", " ", " "])
                    breaks = spans[:2]
                built.append(xquad_r_paragraph(sentences, questions, breaks))
            written.append((title, built))
        write_xquad_r(root, language, written)
    return Path(root) / LAREQA.repo


def skipped_question_id() -> str:
    """The question that `write_lareqa` makes unanswerable in SKIPPED_LANGUAGE."""
    return xquad_r_question_id(*LAST_PARAGRAPH, 1)
