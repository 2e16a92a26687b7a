"""Ways to run the reader network: torch fp32, torch dynamic int8, ONNX Runtime fp32 / int8."""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from retrieval.read.model import ReaderNet

logger = logging.getLogger(__name__)

Outputs = tuple[np.ndarray, np.ndarray, np.ndarray]  # relevance (b,), start, end (b, t)


class Runner(Protocol):
    """Run the network on (embeddings (b, t, 384) float32, attention mask (b, t) int64)."""

    def __call__(self, embeds: np.ndarray, mask: np.ndarray) -> Outputs: ...


class TorchRunner:
    """Run the network in torch (fp32, or with dynamically quantized int8 linear layers)."""

    def __init__(self, net: ReaderNet, int8: bool = False) -> None:
        import torch

        if int8:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.ao's deprecation notice, on every call
                net = torch.ao.quantization.quantize_dynamic(
                    net, {torch.nn.Linear}, dtype=torch.qint8
                )
        self.net = net.eval()

    def __call__(self, embeds: np.ndarray, mask: np.ndarray) -> Outputs:
        import torch

        with torch.inference_mode():
            rel, start, end = self.net(torch.from_numpy(embeds), torch.from_numpy(mask))
        return rel.numpy(), start.numpy(), end.numpy()


class _DropMessage(logging.Filter):
    """Drop log records whose message starts with a given text."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)


def export_onnx(net: ReaderNet, path: Path, int8: bool) -> Path:
    """Write the network as ONNX (and its int8 dynamic quantization) to path, atomically."""
    import torch

    from retrieval.read.model import HIDDEN

    path.parent.mkdir(parents=True, exist_ok=True)
    fp32 = path.with_name(path.stem + ".fp32-tmp.onnx") if int8 else path.with_suffix(".tmp")
    embeds = torch.zeros(2, 16, HIDDEN)
    mask = torch.ones(2, 16, dtype=torch.long)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net.eval(),
            (embeds, mask),
            str(fp32),
            input_names=["embeds", "mask"],
            output_names=["relevance", "start", "end"],
            dynamic_axes={
                "embeds": {0: "batch", 1: "tokens"},
                "mask": {0: "batch", 1: "tokens"},
                "relevance": {0: "batch"},
                "start": {0: "batch", 1: "tokens"},
                "end": {0: "batch", 1: "tokens"},
            },
            opset_version=17,
            dynamo=False,
        )
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = path.with_suffix(".tmp")
        # The quantizer advises "pre-processing" on the root logger, which reached the user's
        # terminal at first use. Measured on this network: pre-processed, the int8 model gives
        # the same outputs, no faster (symbolic shape inference fails on it anyway).
        advice = _DropMessage("Please consider to run pre-processing")
        logging.getLogger().addFilter(advice)
        try:
            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8)
        finally:
            logging.getLogger().removeFilter(advice)
        fp32.unlink()
        os.replace(tmp, path)
    else:
        os.replace(fp32, path)
    return path


class OrtRunner:
    """Run an exported ONNX file with ONNX Runtime on a fixed number of threads."""

    def __init__(self, path: Path, threads: int | None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, embeds: np.ndarray, mask: np.ndarray) -> Outputs:
        rel, start, end = self.session.run(None, {"embeds": embeds, "mask": mask})
        return rel, start, end


def make_runner(
    backend: str,
    build: Callable[[str], ReaderNet],
    onnx_dir: Path,
    tag: str,
    threads: int | None,
) -> Runner:
    """Return the runner for a backend name (torch, torch-int8, onnx, onnx-int8).

    build(attention) assembles the network; ONNX files are exported at first use into
    onnx_dir, named by tag (the artifact's checksum), and reused after.
    """
    if backend in ("torch", "torch-int8"):
        return TorchRunner(build("sdpa"), int8=backend == "torch-int8")
    if backend in ("onnx", "onnx-int8"):
        int8 = backend == "onnx-int8"
        path = onnx_dir / f"reader-{tag}-{'int8' if int8 else 'fp32'}.onnx"
        if not path.is_file():
            logger.info("exporting the reader to %s (first use)", path)
            # Plain-op attention traces to ONNX cleanly.
            export_onnx(build("eager"), path, int8)
        return OrtRunner(path, threads)
    raise ValueError(f"unknown reader backend {backend!r}: use one of {', '.join(BACKENDS)}")


BACKENDS = ("torch", "torch-int8", "onnx", "onnx-int8")
