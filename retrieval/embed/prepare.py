"""Prepare the default model's folder ahead of time: `python -m retrieval.embed.prepare`.

`make install` (and so the Docker image) runs it, so nothing is prepared at run time.
"""

from __future__ import annotations

import sys

from retrieval.config import load_settings
from retrieval.embed.models import default_model_folder
from retrieval.errors import ModelError


def main() -> int:
    """Prepare the default model's folder in the data folder; return the exit status."""
    try:
        folder = default_model_folder(load_settings().models_dir)
    except ModelError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(f"Default model ready: {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
