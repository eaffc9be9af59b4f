"""The rhythm rules' figures as rows: one view shared by the /model page and the README test.

Every number comes from a file a command wrote: `ml/model/strip_rule.json`
(`python -m ml.training.strips`: short strips, out of fold on cinc2017) and
`ml/model/af_window_rule.json` (`python -m ml.training.af_windows --report-ds2`: AF rounds 1
to 6 out of fold, and DS2 AF by duration reported once per round) and `ml/model/intervals_card.json`
(`python -m ml.research.intervals_eval --data-dir ../shared/data/qtdb --out ...`: PR, QRS
and QT against the QT Database's cardiologists, out of fold).
"""

from __future__ import annotations

import json
from typing import Any

from ml.model_card import pct
from ml.strip_rhythm import RULE_FILE, WINDOW_RULE_FILE

INTERVALS_CARD = RULE_FILE.with_name("intervals_card.json")

CANDIDATE_NAMES = {
    "a": "(a) beat rule",
    "b": "(b) 30-s window model",
    "c": "(c) beat rule or window model",
    "d0.1": "(d) (c) with < 10 % ectopic beats in the window",
    "d0.2": "(d) (c) with < 20 % ectopic beats in the window",
    "d0.3": "(d) (c) with < 30 % ectopic beats in the window",
    "f": "(f) beat rule or window model with the normal-beat irregularity",
    "g": "(g) beat rule or window model with the premature-then-pause share",
    "h": "(h) beat rule or window model with quadratic terms",
    "i": "(i) (h) with the premature-then-pause share",
    "j-3.0": "(j) (c) with RR successive differences above about 5 % of RR in the window",
    "j-2.75": "(j) (c) with RR successive differences above about 6 % of RR in the window",
    "j-2.5": "(j) (c) with RR successive differences above about 8 % of RR in the window",
    "k": "(k) (j) at 5 % with a P-wave consistency under 0.8 in the window",
}


def strip_rows() -> list[dict[str, str]]:
    """Short strips (cinc2017, out of fold): AF Se, +P, too-noisy called unclassifiable, and
    the challenge's F1 of normal, AF and other rhythm with their mean."""
    card = json.loads(RULE_FILE.read_text())["out_of_fold"]
    f1 = card["f1"]
    return [
        {
            "data": f"cinc2017, {card['n_recordings']} recordings, out of fold",
            "af_se": pct(card["af"]["se"]),
            "af_ppv": pct(card["af"]["ppv"]),
            "noisy_unclassifiable": pct(card["noisy_called_unclassifiable"]),
            "f1": " / ".join(pct(f1[k]) for k in ("normal", "AF", "other rhythm")),
            "f1_mean": pct(f1["mean"]),
        }
    ]


def strip_round_rows() -> list[dict[str, str]]:
    """Strip round 6: each candidate's out-of-fold F1 (normal / AF / other, and the mean), and
    which one ships."""
    card = json.loads(RULE_FILE.read_text())["round_6"]
    return [
        {
            "candidate": name,
            "f1": " / ".join(pct(f1[k]) for k in ("normal", "AF", "other rhythm")),
            "f1_mean": pct(f1["mean"]),
            "shipped": "yes" if name == card["chosen"] else "",
        }
        for name, f1 in card["out_of_fold_f1"].items()
    ]


SEEDED_STRIP_ROUNDS = ("round_7", "round_8", "round_9", "round_10", "round_11")  # 3 fold seeds


def strip_seeded_round_rows(key: str) -> list[dict[str, str]]:
    """Strip rounds 7 to 11 (`key` "round_7", ...): each candidate, its criterion's figure for
    fold seeds 0, 1 and 2 and their mean (rounds 7 and 8: the smaller of out-of-fold AF Se and
    +P; rounds 9 to 11, whose cards have `mean_f1_by_seed`: the mean F1), the other figure the
    criterion bounds (the mean F1 of seed 0; rounds 9 to 11: the AF figure's mean), and which
    one ships."""
    card = json.loads(RULE_FILE.read_text())[key]
    by_f1 = "mean_f1_by_seed" in card
    criterion = card["mean_f1_by_seed" if by_f1 else "smaller_af_figure_by_seed"]

    def bound(name: str) -> float:
        if by_f1:
            af = card["smaller_af_figure_by_seed"][name]
            return float(sum(af) / len(af))
        return float(card["out_of_fold_f1"][name]["mean"])

    return [
        {
            "candidate": name,
            "by_seed": " / ".join(pct(v) for v in by_seed),
            "mean": pct(sum(by_seed) / len(by_seed)),
            "bound": pct(bound(name)),
            "shipped": "yes" if name == card["chosen"] else "",
        }
        for name, by_seed in criterion.items()
    ]


def strip_calls() -> dict[str, dict[str, int]]:
    """Reference label -> how the recordings were called, out of fold."""
    calls: dict[str, dict[str, int]] = json.loads(RULE_FILE.read_text())["out_of_fold"]["calls"]
    return calls


def af_round_rows() -> list[dict[str, Any]]:
    """AF in long recordings, rounds 1 to 7: each candidate's out-of-fold AF Se / +P, the
    rounds that compared it, and which one ships."""
    card = json.loads(WINDOW_RULE_FILE.read_text())
    rows = []
    for key, row in card["out_of_fold"].items():
        rounds = [n for n, r in card["rounds"].items() if key in r["candidates"]]
        rows.append(
            {
                "candidate": CANDIDATE_NAMES[key],
                "rounds": ", ".join(rounds),
                "shipped": key == card["shipped"],
                **{
                    f"{part}_{m}": pct(row[part][m])
                    for part in ("pooled", "cinc2017", "mitdb_ds1")
                    for m in ("se", "ppv")
                },
            }
        )
    return rows


def ds2_af() -> dict[str, str] | None:
    """DS2 AF by duration with the shipped pipeline (reported, never used to choose)."""
    found = json.loads(WINDOW_RULE_FILE.read_text()).get("ds2_af_by_duration")
    if not found:
        return None
    return {
        "se": pct(found["se"]),
        "ppv": pct(found["ppv"]),
        "elsewhere_s": f"{found['detected_elsewhere_s']:.0f}",
    }


def markdown_rows() -> list[str]:
    """The table rows the README prints (a test checks they are there, figure for figure)."""
    rows = [
        f"| {r['data']} | {r['af_se']} | {r['af_ppv']} | {r['noisy_unclassifiable']} | "
        f"{r['f1']} | {r['f1_mean']} |"
        for r in strip_rows()
    ]
    rows += ["| " + " | ".join(r.values()) + " |" for r in strip_round_rows()]
    for key in SEEDED_STRIP_ROUNDS:
        rows += ["| " + " | ".join(r.values()) + " |" for r in strip_seeded_round_rows(key)]
    for r in af_round_rows():
        pairs = " | ".join(
            f"{r[p + '_se']} / {r[p + '_ppv']}" for p in ("pooled", "cinc2017", "mitdb_ds1")
        )
        rows.append(
            f"| {r['candidate']} | {r['rounds']} | {pairs} | {'yes' if r['shipped'] else ''} |"
        )
    rows += ["| " + " | ".join(r.values()) + " |" for r in interval_rows()]
    return rows


INTERVAL_NAMES = {"pr": "PR", "qrs": "QRS", "qt": "QT"}


def interval_rows() -> list[dict[str, str]]:
    """Global intervals against the QT Database cardiologists (q1c), out of fold: per
    interval, records measured of those with a reference, mean and SD of ours minus theirs."""
    card = json.loads(INTERVALS_CARD.read_text())["out_of_fold"]["intervals"]
    rows = []
    for key, name in INTERVAL_NAMES.items():
        found = card[key]
        rows.append(
            {
                "interval": name,
                "measured": f"{found['records_measured']}/{found['records_with_reference']}",
                "mean_ms": f"{found['mean_diff_ms']:+.1f}",
                "sd_ms": f"{found['sd_diff_ms']:.1f}",
                "floor": f"+-{found['floor_mean_ms']:g} / {found['floor_sd_ms']:g}",
                "high_confidence": f"{found['high_confidence']['records_measured']}: "
                f"{found['high_confidence']['mean_diff_ms']:+.1f} / "
                f"{found['high_confidence']['sd_diff_ms']:.1f}",
            }
        )
    return rows
