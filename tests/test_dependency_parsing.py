"""UD English EWT dependency parsing: the CoNLL-U reader, LAS/UAS, the biaffine head, a chain.

The chain trains on `fixtures.write_ud_ewt`'s CoNLL-U files (multiword tokens and empty nodes
included), whose arcs follow from the words, and hands its encoder on to a target task.
"""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pytest
import torch
from lab import FixtureLab, build_lab

from stilts import StiltsError
from stilts.eval.parsing import attachment_scores
from stilts.runtime.biaffine import SETTINGS, BiaffineParserModel
from stilts.runtime.evaluate import evaluate
from stilts.runtime.features import tokenized
from stilts.store.files import read_json
from stilts.store.layout import PHASE_MANIFEST
from stilts.tasks import registry
from stilts.tasks.data import DataLocator
from stilts.tasks.heads import DependencyParsing
from stilts.tasks.heads.dependency import UNPARSED
from stilts.tasks.plugins.udparse import read_conllu, udparse
from stilts.tasks.task import Task
from stilts.testing import TINY_CONFIG, train_tokenizer

HEAD = DependencyParsing(labels=("root", "nsubj", "obj", "punct"), arc_size=8, label_size=4)
TASK = Task(
    name="toy", summary="", head=HEAD, languages=("en",), sources=(), load=None,
    metric=attachment_scores, main_metric="las",
)  # fmt: skip
LAB_SETTINGS = {"learning_rate": 1e-3, "epochs": 4, "max_length": 64, "batch_size": 16}


# --- LAS and UAS ------------------------------------------------------------------------------


def test_las_and_uas_match_hand_counts():
    gold = [
        [(2, "nsubj"), (0, "root"), (2, "obj"), (2, "punct")],
        [(2, "nmod:poss"), (0, "root"), (2, "obl:npmod"), (2, "punct")],
    ]
    predicted = [
        [(2, "nsubj"), (0, "root"), (2, "iobj"), (3, "punct")],  # right head, wrong label
        [(2, "nmod"), (0, "root"), (2, "obl:tmod"), (1, "punct")],  # subtypes do not count
    ]
    # 8 words; heads right: 3 + 3; head and universal relation right: 2 + 3
    scores = attachment_scores(predicted, gold, "en")
    assert scores == pytest.approx({"uas": 100 * 6 / 8, "las": 100 * 5 / 8})
    assert attachment_scores(gold, gold, "en") == {"uas": 100.0, "las": 100.0}


def test_scores_refuse_misaligned_parses():
    with pytest.raises(ValueError, match="sentence 0 has 1 predicted words, 2 gold"):
        attachment_scores([[(0, "root")]], [[(0, "root"), (1, "obj")]], "en")
    with pytest.raises(ValueError, match="1 predicted sentences, 2 gold"):
        attachment_scores([[(0, "root")]], [[(0, "root")], [(0, "root")]], "en")


# --- CoNLL-U ----------------------------------------------------------------------------------

CONLLU = """\
# newdoc id = doc
# sent_id = doc-0001
# text = Sharon didn't go.
1\tSharon\tSharon\tPROPN\tNNP\tNumber=Sing\t4\tnsubj\t4:nsubj\t_
2-3\tdidn't\t_\t_\t_\t_\t_\t_\t_\t_
2\tdid\tdo\tAUX\tVBD\t_\t4\taux\t4:aux\t_
3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t4:advmod\t_
4\tgo\tgo\tVERB\tVB\tVerbForm=Inf\t0\troot\t0:root\tSpaceAfter=No
5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t4:punct\t_

# sent_id = doc-0002
# text = I like tea and he coffee
1\tI\tI\tPRON\tPRP\t_\t2\tnsubj\t2:nsubj\t_
2\tlike\tlike\tVERB\tVBP\t_\t0\troot\t0:root\t_
3\ttea\ttea\tNOUN\tNN\t_\t2\tobj\t2:obj\t_
4\tand\tand\tCCONJ\tCC\t_\t5\tcc\t5.1:cc\t_
5\the\the\tPRON\tPRP\t_\t2\tconj\t5.1:nsubj\t_
5.1\tlike\tlike\tVERB\tVBP\t_\t_\t_\t2:conj:and\tCopyOf=2
6\tcoffee\tcoffee\tNOUN\tNN\t_\t5\torphan\t5.1:obj\t_"""  # no blank line at the end


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "en_ewt-ud-dev.conllu"
    path.write_text(text, encoding="utf-8")
    return path


def test_conllu_reader_skips_comments_multiword_tokens_and_empty_nodes(tmp_path):
    first, second = read_conllu(write(tmp_path, CONLLU))
    assert first.words == ["Sharon", "did", "n't", "go", "."]
    assert first.heads == [4, 4, 4, 0, 4]
    assert first.deprels == ["nsubj", "aux", "advmod", "root", "punct"]
    assert second.words == ["I", "like", "tea", "and", "he", "coffee"]
    assert second.heads == [2, 0, 2, 5, 2, 5]
    assert second.deprels[-1] == "orphan"


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("\tPUNCT\t.\t_\t4\tpunct", "\tPUNCT\t.\t4\tpunct", r":9: .* 10 tab-separated .* 9$"),
        ("\t_\t4\tpunct\t4:punct", "\t_\t7\tpunct\t4:punct", r":9: HEAD 7 is past .* \(5\)$"),
        ("\t_\t4\taux\t4:aux", "\t_\t_\taux\t4:aux", r":6: word 2 needs a numeric HEAD"),
        ("4\tgo\tgo", "7\tgo\tgo", r":8: word ID '7' should be 4$"),
    ],
)
def test_malformed_conllu_is_one_line_naming_file_and_line(tmp_path, old, new, error):
    assert CONLLU.count(old) == 1
    path = write(tmp_path, CONLLU.replace(old, new))
    with pytest.raises(StiltsError, match=error) as caught:
        list(read_conllu(path))
    assert str(caught.value).startswith(f"{path}:") and "\n" not in str(caught.value)


def test_the_treebank_is_read_from_a_local_copy_only(tmp_path):
    with pytest.raises(
        StiltsError,
        match=r"EWT r2\.5 CoNLL-U .* local copy only: put it at DIR/UniversalDependencies/",
    ):
        udparse.load("train", "en", DataLocator(None))
    with pytest.raises(StiltsError, match=r"UD_English-EWT has no UD English EWT r2\.5 CoNLL-U"):
        udparse.load("train", "en", DataLocator(tmp_path))
    with pytest.raises(StiltsError, match="English data only"):
        udparse.load("test", "de", DataLocator(tmp_path))


# --- the head -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(["anna saw bob ."] * 30, 60)


def gold_outputs(features: datasets.Dataset) -> np.ndarray:
    """What `reduce_outputs` returns for a perfect parser: per position the gold head position
    and relation id, padded with -100 as Trainer pads batches."""
    width = max(len(ids) for ids in features["input_ids"])
    best = np.full((features.num_rows, width, 2), -100)
    for i, (heads, labels) in enumerate(
        zip(features["head_labels"], features["labels"], strict=True)
    ):
        pairs = zip(heads, labels, strict=True)
        best[i, : len(heads)] = [[max(head, 0), max(label, 0)] for head, label in pairs]
    return best


def test_arcs_are_labelled_on_first_sub_words_and_decode_back_to_words(tokenizer):
    rows = {
        "tokens": [["anna", "zyxwvut", "bob", "."]],
        "heads": [[2, 0, 2, 2]],
        "deprels": [["nsubj", "root", "obj", "punct"]],
    }
    features = HEAD.preprocess(rows, tokenizer, max_length=64)
    word_ids, heads = features["word_ids"][0], features["head_labels"][0]
    starts = {word: position for position, word in enumerate(word_ids) if word >= 0}
    assert sorted(starts) == [0, 1, 2, 3]
    assert starts[2] - starts[1] >= 4  # the made-up word is several sub-words
    assert [heads[starts[w]] for w in range(4)] == [starts[1], 0, starts[1], starts[1]]
    assert [features["labels"][0][starts[w]] for w in range(4)] == [1, 0, 2, 3]
    assert sum(h != -100 for h in heads) == 4  # later sub-words and specials are not scored
    table = datasets.Dataset.from_dict(rows)
    features = tokenized(TASK, table, tokenizer, 64)
    assert HEAD.decode(gold_outputs(features), features, table) == HEAD.references(table)


def test_words_past_the_maximum_length_are_unparsed_and_not_trained(tokenizer):
    words = ["anna", "saw", "bob", "."] * 5  # 20 words; the first 14 fit in 16 positions
    heads = [2, 0, 2, 2, 2, 18] + [2] * 14  # word 6's head, word 18, is cut off
    relations = ["nsubj", "root"] + ["obj"] * 18
    table = datasets.Dataset.from_dict(
        {"tokens": [words], "heads": [heads], "deprels": [relations]}
    )
    features = tokenized(TASK, table, tokenizer, max_length=16)
    assert max(features["word_ids"][0]) == 13
    scored = [i for i, head in enumerate(features["head_labels"][0]) if head != -100]
    assert [features["word_ids"][0][i] for i in scored] == [w for w in range(14) if w != 5]
    (predicted,) = HEAD.decode(gold_outputs(features), features, table)
    gold = list(zip(heads, relations, strict=True))
    assert predicted[:5] + predicted[6:14] == gold[:5] + gold[6:14]
    assert predicted[14:] == [UNPARSED] * 6


def test_a_relation_unseen_in_training_is_not_trained_but_scored(tokenizer):
    rows = {"tokens": [["anna", "saw"]], "heads": [[2, 0]], "deprels": [["nsubj:pass", "root"]]}
    features = HEAD.preprocess(rows, tokenizer, max_length=16)
    assert sorted(set(features["labels"][0])) == [-100, 0]
    assert sorted(set(features["head_labels"][0])) == [-100, 0, 2]


def test_relations_are_classified_on_predicted_heads_outside_training(tokenizer):
    """Classifying relations on the gold heads at evaluation would inflate LAS."""
    from transformers import XLMRobertaConfig

    config = XLMRobertaConfig(
        vocab_size=len(tokenizer), hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        **TINY_CONFIG,
    )  # fmt: skip
    config.num_labels = len(HEAD.labels)
    setattr(config, SETTINGS, {"arc_size": 8, "label_size": 4, "dropout": 0.0})
    torch.manual_seed(0)
    model = BiaffineParserModel(config)
    for parameter in (model.arc.weight, model.label.weight):
        torch.nn.init.normal_(parameter)  # the biaffines start at zero: make scores differ
    rows = {
        "tokens": [["anna", "saw", "bob", "."]],
        "heads": [[2, 0, 2, 2]],
        "deprels": [["nsubj", "root", "obj", "punct"]],
    }
    features = HEAD.preprocess(rows, tokenizer, 16)
    batch = HEAD.collator(tokenizer)([{key: values[0] for key, values in features.items()}])
    unlabelled = {key: batch[key] for key in ("input_ids", "attention_mask", "word_ids")}
    with torch.no_grad():
        evaluated = model.eval()(**batch)
        predicted = model(**unlabelled)
        trained = model.train()(**batch)
    scored = batch["head_labels"] != -100
    assert not torch.equal(evaluated.arc_logits.argmax(-1)[scored], batch["head_labels"][scored])
    assert torch.equal(evaluated.label_logits, predicted.label_logits)
    assert not torch.equal(trained.label_logits, evaluated.label_logits)
    assert torch.equal(trained.arc_logits, evaluated.arc_logits)  # no dropout anywhere
    assert trained.loss is not None and predicted.loss is None


def test_describe_spec_and_an_unbound_head():
    assert HEAD.describe() == "dependency parsing (biaffine, 4 relations)"
    assert HEAD.spec()["decoding"] == "argmax head per word"
    assert udparse.head.describe() == "dependency parsing (biaffine, relations from data)"
    with pytest.raises(StiltsError, match="no relation set"):
        udparse.head.model_with_encoder(None, None)


# --- a chain on the fixture -------------------------------------------------------------------


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> FixtureLab:
    return build_lab(
        tmp_path_factory.mktemp("lab"), ("udparse", "pawsx"), LAB_SETTINGS, vocab_size=1500
    )


def test_the_parser_learns_the_fixture_and_its_prediction_file_scores_the_same(lab):
    chain, result = lab.run("udparse")
    assert result.dev["en"]["uas"] > 80 and result.dev["en"]["las"] > 75, result.dev
    assert result.test["en"]["uas"] > 80 and result.test["en"]["las"] > 75, result.test
    task = chain.target.task
    run_dir = lab.store.run_dir(chain.config.tasks, chain.run_fingerprint)
    conllu = run_dir / "predictions" / "udparse" / "test-en.conllu"
    predicted = [list(zip(s.heads, s.deprels, strict=True)) for s in read_conllu(conllu)]
    gold = task.load("test", "en", chain.data)
    assert [s.words for s in read_conllu(conllu)] == gold["tokens"]
    scores = task.metric(predicted, task.head.references(gold), "en")
    assert scores == pytest.approx(result.test["en"])


def test_the_parser_hands_its_encoder_on(lab):
    from transformers import AutoModel

    chain, result = lab.run("udparse", "pawsx")
    assert result.dev["en"]["accuracy"] > 75, result.dev
    parsing = chain.phases[0]
    model_dir = lab.store.phase_dir(parsing.name, parsing.fingerprint) / "model"
    with pytest.raises(StiltsError, match="no relation set"):
        parsing.task.head.load_trained(str(model_dir))  # planned, not yet bound to the data
    parser = parsing.task.bound(chain.data).head.load_trained(str(model_dir))
    encoder = AutoModel.from_pretrained(model_dir)
    handed = encoder.state_dict()
    own = parser.base_model.state_dict()
    assert set(own) <= set(handed)  # the next phase's encoder has every parser encoder weight
    assert all(torch.equal(own[name], handed[name]) for name in own)


def test_the_registered_task_reads_its_fixture_mirror(lab):
    data = DataLocator(lab.data)
    task = registry.load("udparse").bound(data)
    assert "root" in task.head.labels and "obl:npmod" not in task.head.labels
    dev = task.load("dev", "en", data)
    assert "obl:npmod" in {rel for rels in dev["deprels"] for rel in rels}  # unseen in training


def test_the_parser_trains_in_a_multitask_phase_and_is_scored_from_its_head(lab):
    """The parser's model is stilts' own class, not a transformers one: reloading its head
    from a multi-task phase builds it through the head around the shared encoder."""
    chain, _ = lab.run("udparse+pawsx", "pawsx")
    record = read_json(lab.store.phase_dir(chain.phases[0].name, chain.phases[0].fingerprint)
                       / PHASE_MANIFEST)  # fmt: skip
    assert record["dev"]["udparse"]["en"]["uas"] > 60, record["dev"]
    assert record["dev"]["pawsx"]["en"]["accuracy"] > 60, record["dev"]


def test_eval_scores_a_trained_parser_and_refuses_a_model_without_one(lab):
    """`stilts eval` asks the task's head whether a model carries it: the parser's own model
    class, a multi-task phase's head directory, and a masked LM, which has none."""
    chain, result = lab.run("udparse")
    run_dir = lab.store.run_dir(chain.config.tasks, chain.run_fingerprint)
    scored, _ = evaluate("udparse", str(run_dir), lab.store, data=str(lab.data))
    assert scored.test == result.test
    multitask, _ = lab.run("udparse+pawsx", "pawsx")
    phase = multitask.phases[0]
    phase_dir = lab.store.phase_dir(phase.name, phase.fingerprint)
    scored, _ = evaluate("udparse", str(phase_dir), lab.store, data=str(lab.data))
    assert scored.test["en"]["uas"] > 60
    for model, found in ((str(lab.model), "XLMRobertaForMaskedLM"), (str(run_dir), None)):
        task = "udparse" if found else "mlm"
        with pytest.raises(StiltsError, match=r"has no trained .* head") as refused:
            evaluate(task, model, lab.store, data=str(lab.data))
        assert found is None or found in str(refused.value)
