"""Tests of the reader's training examples: the near-topic negatives cut from a paragraph."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from safetensors import safe_open

from retrieval.read.artifact import load_artifact
from retrieval.read.base import base_model_dir
from retrieval.read.inputs import load_tokenizer
from retrieval.read.model import FROZEN_LAYERS, N_LAYERS, ReaderNet
from training.data import Paragraph, Question
from training.reader import ExampleBuilder, _reader_shape, export

MARKET = (
    "零工市场建设过程中,全省新建93家、改建24家。零工市场每天9点开门,"
    "具备求职登记、信息咨询、对接洽谈、候工休息等功能。"
)
OTHER = "青年路停水,定于2023年8月31日20时至9月1日8时,望相关区域内的用户提前做好储水准备。"


@pytest.fixture(scope="module")
def builder() -> ExampleBuilder:
    paragraphs = [
        Paragraph("test", "market", MARKET),
        Paragraph("test", "water", OTHER),
        Paragraph("test", "water", OTHER.replace("青年路", "迎泽大街")),
    ]
    questions = [
        Question("q1", "零工市场每天几点开门？", 0, "9点", MARKET.index("9点")),
        Question("q2", "全省新建了多少家零工市场？", 0, "93家", MARKET.index("93家")),
    ]
    candidates = np.array([[1, 2, 0], [2, 1, 0]])
    return ExampleBuilder(load_tokenizer(base_model_dir()), paragraphs, questions, candidates, 2)


def test_blanked_cuts_the_answer_and_keeps_the_sentence(builder: ExampleBuilder) -> None:
    near = builder.blanked(0)
    assert near is not None
    assert "9点" not in near.text
    assert "零工市场每天开门" in near.text
    assert near.article == "market"


def test_trimmed_cuts_the_sentence_holding_the_answer(builder: ExampleBuilder) -> None:
    near = builder.trimmed(1)
    assert near is not None
    assert "93家" not in near.text and "新建" not in near.text
    assert near.text.startswith("零工市场每天9点开门")


def test_a_cut_paragraph_is_a_negative_with_no_answer(builder: ExampleBuilder) -> None:
    for kind in ("blanked", "trimmed"):
        examples, positive = builder.group(0, random.Random(0), kind)
        assert positive == -1, kind
        assert examples and all(ex.label == 0.0 and ex.start < 0 for ex in examples), kind


def test_an_answer_left_elsewhere_gives_no_blanked_paragraph(builder: ExampleBuilder) -> None:
    text = MARKET + "周末也是9点开门。"
    builder.paragraphs[0] = Paragraph("test", "market", text)
    try:
        assert builder.blanked(0) is None
    finally:
        builder.paragraphs[0] = Paragraph("test", "market", MARKET)


def test_a_new_run_takes_the_shape_asked_for_or_the_default() -> None:
    assert _reader_shape(None, None, None) == (N_LAYERS, FROZEN_LAYERS)
    assert _reader_shape(8, 4, None) == (8, 4)
    assert _reader_shape(8, None, None) == (8, FROZEN_LAYERS)


def test_a_resumed_run_keeps_its_checkpoints_shape() -> None:
    assert _reader_shape(None, None, {"layers": 8, "frozen": 4}) == (8, 4)
    assert _reader_shape(8, None, {"layers": 8, "frozen": 4}) == (8, 4)
    # Checkpoints from before the shape was an option are of the first reader's shape.
    assert _reader_shape(None, None, {"step": 3}) == (4, 2)


@pytest.mark.parametrize(
    ("layers", "frozen", "state"),
    [
        (12, 2, {"layers": 8, "frozen": 4}),
        (None, 2, {"layers": 8, "frozen": 4}),
        (13, 2, None),
        (0, None, None),
    ],
)
def test_a_shape_that_does_not_fit_is_refused(
    layers: int | None, frozen: int | None, state: dict[str, object] | None
) -> None:
    with pytest.raises(SystemExit):
        _reader_shape(layers, frozen, state)


def test_the_artifact_records_the_shape_and_stores_more_layers_in_int8(tmp_path: Path) -> None:
    net = ReaderNet(3)
    sha = export(net, 0, tmp_path / "r.safetensors", {"step": 1}, step=1)
    tensors, metadata = load_artifact(tmp_path / "r.safetensors", sha)
    assert (metadata["layers"], metadata["frozen_layers"]) == ("3", "0")
    assert any(name.startswith("bert.encoder.layer.0.") for name in tensors)
    raw = safe_open(str(tmp_path / "r.safetensors"), "np")
    assert raw.get_tensor("bert.encoder.layer.0.attention.self.query.weight").dtype == np.int8
