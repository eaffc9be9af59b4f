"""Episodes joined into one count each beat once: a beat where one stretch ends and the next
begins belongs to both, and a merged "Sinus rhythm 1.3-119.2 s" had listed 131 beats in a
recording of 130 (a consistency audit of an EDF upload)."""

from __future__ import annotations

import numpy as np

from ml import rhythm


def test_bridged_and_merged_stretches_count_their_shared_beats_once() -> None:
    beat_s = np.arange(0.0, 46.0)  # 46 beats a second apart, 0 to 45 s
    episodes = [
        rhythm.Episode(rhythm.BRADY, 0.0, 20.0, 21),
        rhythm.Episode(rhythm.SINUS, 20.0, 25.0, 6),  # shares a beat with each side
        rhythm.Episode(rhythm.BRADY, 25.0, 45.0, 21),
    ]
    (joined,) = rhythm.consolidate(episodes)
    assert (joined.label, joined.start_s, joined.end_s) == (rhythm.BRADY, 0.0, 45.0)
    assert joined.n_beats == beat_s.size
    apart = [
        rhythm.Episode(rhythm.BIGEMINY, 0.0, 5.0, 7),
        rhythm.Episode(rhythm.BIGEMINY, 6.0, 11.0, 7),
    ]
    assert rhythm.consolidate(apart)[0].n_beats == 14  # apart: nothing shared
    # Runs of ectopic beats are never joined: a beat of another class lies between them.
    vt = [rhythm.Episode(rhythm.VT, 0.0, 2.0, 5), rhythm.Episode(rhythm.VT, 3.0, 5.0, 5)]
    assert [e.n_beats for e in rhythm.consolidate(vt)] == [5, 5]
