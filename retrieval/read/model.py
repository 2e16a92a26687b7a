"""The reader network: a slice of e5-small's layers with relevance and answer-span heads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from transformers import BertConfig, BertModel

from retrieval.read.base import BASE_EMBEDDINGS, base_tensors

HIDDEN = 384
# The first layers of e5-small: four keep five 128-token candidates near 30 ms in int8.
N_LAYERS = 4
# The lowest layers stay as in e5-small (read from the base folder, not the artifact): on a
# shared 2-core machine that halves the backward pass, so training sees more questions.
FROZEN_LAYERS = 2


def bert_config(n_layers: int, attention: str = "sdpa") -> BertConfig:
    """Return multilingual-e5-small's BertConfig cut to n_layers, without a vocabulary.

    The word embeddings stay outside the network (a memory-mapped lookup), so the network
    holds only a 2-row placeholder for them.
    """
    config = BertConfig(
        vocab_size=2,
        hidden_size=HIDDEN,
        num_hidden_layers=n_layers,
        num_attention_heads=12,
        intermediate_size=1536,
        max_position_embeddings=512,
        type_vocab_size=2,
        layer_norm_eps=1e-12,
        pad_token_id=1,
    )
    config._attn_implementation = attention
    return config


class ReaderNet(nn.Module):
    """Read (question, paragraph) embeddings; return relevance logit, start and end logits."""

    def __init__(self, n_layers: int = N_LAYERS, attention: str = "sdpa") -> None:
        super().__init__()
        self.n_layers = n_layers
        self.bert = BertModel(bert_config(n_layers, attention), add_pooling_layer=False)
        # Relevance reads <s>, the mean and the max of the tokens: e5 was trained with mean
        # pooling, and its <s> alone stayed constant over the first few hundred steps.
        self.relevance = nn.Linear(3 * HIDDEN, 1)
        self.span = nn.Linear(HIDDEN, 2)

    def forward(
        self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return relevance (batch,), start and end logits (batch, tokens)."""
        hidden = self.bert(inputs_embeds=inputs_embeds, attention_mask=attention_mask)[0]
        spans = self.span(hidden)
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        peak = hidden.masked_fill(mask == 0, -1e4).max(1).values
        pooled = torch.cat([hidden[:, 0], mean, peak], dim=-1)
        start, end = spans[..., 0], spans[..., 1]
        # SQuAD 2.0 style: a window that does not answer points its span at <s>, so the best
        # start and end against <s>'s own say how answerable the window is. This token-level
        # signal learns fast; the pooled head alone learned slowly.
        padded = attention_mask == 0
        best = start.masked_fill(padded, -1e4)[:, 1:].max(1).values
        best = best + end.masked_fill(padded, -1e4)[:, 1:].max(1).values
        answerable = best - start[:, 0] - end[:, 0]
        return self.relevance(pooled).squeeze(-1) + answerable, start, end


def frozen_layer_names(net: ReaderNet, frozen: int) -> tuple[str, ...]:
    """Return the base-model names of the encoder tensors below the trained layers."""
    prefixes = tuple(f"encoder.layer.{i}." for i in range(frozen))
    return tuple(k for k in net.bert.state_dict() if k.startswith(prefixes))


def load_base_into(net: ReaderNet, model_dir: Path) -> None:
    """Copy the base model's embedding tensors and its first layers into the network."""
    wanted = {f"bert.{name}" for name in BASE_EMBEDDINGS}
    wanted |= {f"bert.{k}" for k in net.bert.state_dict() if k.startswith("encoder.")}
    base = base_tensors(model_dir)
    state = {k: torch.from_numpy(np.asarray(base[k[5:]], dtype=np.float32)) for k in wanted}
    missing = net.load_state_dict(state, strict=False)
    unexpected = [k for k in missing.missing_keys if k.startswith("bert.encoder")]
    if unexpected or missing.unexpected_keys:
        raise ValueError(f"base model does not fit the reader: {unexpected}")


def trained_names(net: ReaderNet, frozen: int = FROZEN_LAYERS) -> list[str]:
    """Return the parameter names that training changes and the artifact stores."""
    kept = tuple(f"bert.encoder.layer.{i}." for i in range(frozen))
    return [
        name
        for name in net.state_dict()
        if name.startswith(("bert.encoder.", "relevance.", "span.")) and not name.startswith(kept)
    ]


def build_net(
    model_dir: Path,
    tensors: dict[str, np.ndarray],
    n_layers: int,
    frozen: int,
    attention: str = "sdpa",
) -> ReaderNet:
    """Assemble the inference network: base embeddings and frozen layers, trained tensors."""
    net = ReaderNet(n_layers, attention)
    base = base_tensors(model_dir, BASE_EMBEDDINGS + frozen_layer_names(net, frozen))
    state = {
        f"bert.{k}": torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in base.items()
    }
    state.update({k: torch.from_numpy(v) for k, v in tensors.items()})
    result = net.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if k != "bert.embeddings.word_embeddings.weight"]
    if missing or result.unexpected_keys:
        raise ValueError(
            f"the reader artifact does not fit a {n_layers}-layer reader: missing {missing[:3]}, "
            f"unexpected {result.unexpected_keys[:3]}"
        )
    return net.eval()
