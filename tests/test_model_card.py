"""The shipped model card agrees with itself, with its Markdown, the README and /model."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pytest
from flask import Flask

from ml.classifier import DEFAULT_MODEL_DIR, read_card, sha256_of
from ml.model_card import KEYS, figure_rows, pct
from ml.research.aami import BeatScore
from tests.conftest import People, client_for

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture(scope="module")
def card() -> dict:
    return read_card()


def _row(name: str, metrics: dict) -> str:
    return f"| {name} | " + " | ".join(pct(metrics.get(k)) for k in KEYS) + " |"


def test_card_follows_protocol_v2_with_figures_per_database(card: dict) -> None:
    assert card["protocol"]["version"] == 2
    assert any("DS2" in rule and "no choice" in rule for rule in card["protocol"]["rules"])
    assert set(card["data"]["databases"]) == {"mitdb", "svdb", "nstdb"}
    for database in ("mitdb", "svdb"):
        info = card["data"]["databases"][database]
        assert info["citation"] and "License" in info["citation"]
        assert set(card["out_of_fold"]["end to end (analyze)"][database]) >= set(KEYS)
    assert len(card["data"]["databases"]["svdb"]["records"]) == 39
    folds = card["selection"]["folds"]
    patients = [p for fold in folds for p in fold]
    assert len(patients) == len(set(patients)) == 22 + 39
    assert all({p.split("/")[0] for p in fold} == {"mitdb", "svdb"} for fold in folds)
    assert not set(card["data"]["ds2_records"]) & set(card["data"]["ds1_records"])


def test_figures_follow_from_the_stored_confusion_matrices(card: dict) -> None:
    for database, confusion in card["out_of_fold_end_to_end_confusion"].items():
        score = BeatScore(
            np.asarray(confusion["rows_reference_cols_predicted"]),
            np.asarray(confusion["missed_reference"]),
            np.asarray(confusion["extra_detections"]),
        )
        figures = card["out_of_fold"]["end to end (analyze)"][database]
        assert figures["accuracy"] == pytest.approx(score.accuracy)
        for cls in ("S", "V"):
            assert figures[f"{cls}_se"] == pytest.approx(score.per_class()[cls]["se"])
            assert figures[f"{cls}_ppv"] == pytest.approx(score.per_class()[cls]["ppv"])


def test_floor_verdicts_match_the_figures(card: dict) -> None:
    assert {r["where"] for r in card["floors"]} >= {
        "svdb out of fold, end to end",
        "DS2, reference R peaks",
    }
    for row in card["floors"]:
        assert row["pass"] == (row["value"] is not None and row["value"] >= row["floor"])


def test_weights_match_the_card(card: dict) -> None:
    weights = DEFAULT_MODEL_DIR / card["weights_file"]
    assert sha256_of(weights) == card["weights_sha256"]
    assert card["weights_sha256"] in (DEFAULT_MODEL_DIR / "MODEL_CARD.md").read_text()
    runtime = DEFAULT_MODEL_DIR / card["runtime_file"]  # what the portal runs (LiteRT)
    assert sha256_of(runtime) == card["runtime_sha256"]
    assert card["runtime_sha256"] in (DEFAULT_MODEL_DIR / "MODEL_CARD.md").read_text()


def test_markdown_and_readme_print_the_same_figures(card: dict) -> None:
    markdown = (DEFAULT_MODEL_DIR / "MODEL_CARD.md").read_text()
    readme = README.read_text()
    for name, metrics in figure_rows(card).items():
        assert _row(name, metrics) in markdown, name
        assert _row(name, metrics) in readme, f"README lacks the card's row {name!r}"
    assert "never seen" not in readme.lower() and "never seen" not in markdown.lower()


def test_model_page_shows_the_figures_per_database(app: Flask, people: People) -> None:
    card = read_card()
    page = client_for(app, people.doctor).get("/model").get_data(as_text=True)
    text = html.unescape(page)
    for name, metrics in figure_rows(card).items():
        cells = "".join(f"<td>{pct(metrics.get(k))}</td>" for k in KEYS)
        assert f"<tr><td>{name}</td>{cells}</tr>" in text, name
    assert "protocol v2" in text
    assert "never seen" not in text.lower()
    as_json = client_for(app, people.doctor).get("/model?format=json").get_json()
    assert set(as_json["figures"]) == set(figure_rows(card))


def test_card_reports_resampling_within_tolerance_and_the_noise_table(card: dict) -> None:
    assert [r["rate"] for r in card["resampling"]] == ["native", "128 Hz", "250 Hz", "500 Hz"]
    assert all(r["within_tolerance"] for r in card["resampling"])
    noise = {r["record"]: r for r in card["noise"]}
    assert set(noise) == {
        f"{b}{s}" for b in ("118", "119") for s in ("", "e24", "e18", "e12", "e06", "e00", "e_6")
    }
    for name in ("118e00", "118e_6", "119e00", "119e_6"):
        assert noise[name]["noisy_time_flagged"] >= 0.9, name
    for name in ("118e12", "119e12"):
        assert noise[name]["rpeak_se"] >= 0.99 and noise[name]["rpeak_ppv"] >= 0.985, name
