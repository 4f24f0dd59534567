"""Tiny trained models for the model tests, built from data the tests write themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.model.tiny_data import TINY, write_data_dir


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    return write_data_dir(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def tiny_lm(data_dir, tmp_path_factory) -> Path:
    from model.train import TrainConfig, pretrain

    cfg = TrainConfig(
        task="lm",
        data_dir=str(data_dir),
        out=str(tmp_path_factory.mktemp("lm") / "lm"),
        epochs=2,
        lr=5e-3,
        lr_decay=1.0,
        gradual_unfreeze=False,
        half=False,
        **TINY,
    )
    return pretrain(cfg, command="sentimon model pretrain --tiny")


@pytest.fixture(scope="session")
def tiny_clf(data_dir, tiny_lm, tmp_path_factory) -> Path:
    from model.finetune import finetune
    from model.train import TrainConfig

    cfg = TrainConfig(
        task="clf",
        data_dir=str(data_dir),
        init_from=str(tiny_lm),
        epochs=6,
        lr=2e-2,
        patience=6,
        out=str(tmp_path_factory.mktemp("clf") / "clf"),
        **TINY,
    )
    return finetune(cfg, command="sentimon model finetune --tiny")
