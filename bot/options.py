"""The options every front end shares (corpus, model, engine, backend) as engine settings."""

from __future__ import annotations

import argparse

from retrieval.config import Settings, load_settings
from retrieval.engine import Engine


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Return the engine settings of the common options (then environment, then defaults)."""
    return load_settings(
        corpus=args.corpus,
        model=args.model,
        engine=args.engine,
        backend=args.backend,
        milvus_uri=args.milvus_uri,
    )


def engine_from_args(args: argparse.Namespace) -> Engine:
    """Return an engine for the common options."""
    return Engine(settings_from_args(args))
