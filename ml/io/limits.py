"""How much work one recording may cause, checked from its header before any signal is read.

An upload is small on the wire but not in memory: a 672 KB zip held a WFDB header announcing
345.6 million samples (48 hours of one lead at 2000 Hz) and drove a server process to
13.8 GB. So every reader states what it is about to decode (leads x samples, duration) and
`check_recording_size` refuses it first, in words a clinician understands.

The bound is what a Holter needs: 24 hours of 3 leads at 256 Hz (66.4 million samples) or of
2 leads at 360 Hz (MIT-BIH's rate, 62.2 million). Decoded to millivolts (8 bytes a sample)
that is 512 MiB; reading and checking the worst such file (one lead, every sample impossible)
peaks at 1.17 GB in a fresh process (80 MB of it imports), within the 1.5 GB one upload may
take; a real 24-hour 2-lead Holter peaks at 0.82 GB (tests/test_upload_bombs.py measures
both). Most of the rest is `ml.recording.validated` and `ml.gaps.impossible_values_as_gaps`,
which make whole-lead temporaries. CSV text costs several times more to parse than binary
samples, so CSV files have a lower bound of their own (0.75 GB at worst).
"""

from __future__ import annotations

import re

from ml.errors import DurationError, RecordingError
from ml.recording import MAX_DURATION_S

# 2**26 samples: 24 h of 3 leads at 256 Hz, or of 2 leads at 360 Hz; 512 MiB as float64.
MAX_DECODED_SAMPLES = 2**26
BYTES_PER_DECODED_SAMPLE = 8  # millivolts as float64
# pandas needs about 35 bytes per value of a CSV file (text, parsed table, numbers): 2**24
# values (about 4.6 h of 3 leads and a time column at 250 Hz) stay under 600 MB.
MAX_CSV_VALUES = 2**24
# A 12-lead ECG has 12 leads, a Holter 2 or 3, body-surface maps up to about 250 but are not
# ECGs this portal reads. Thousands of "leads" would each be checked and listed one by one.
MAX_LEADS = 64
HOLTER_EXAMPLE = "for example 24 hours of 3 leads at 256 Hz, or of 2 leads at 360 Hz"
# File systems refuse a name over 255 bytes (Linux's NAME_MAX): a longer one, uploaded, inside
# a .zip or named by a WFDB header for its data file, could never be written or opened.
MAX_FILE_NAME_BYTES = 255


class RecordingTooLargeError(RecordingError):
    """More samples than one analysis may hold; refused before they are read."""


def duration_text(seconds: float) -> str:
    """'48.0 hours', '12.5 minutes', '30 s'."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} hours"
    if seconds >= 120:
        return f"{seconds / 60:.1f} minutes"
    return f"{seconds:.0f} s"


def millions(count: float) -> str:
    return f"{count / 1e6:.1f} million"


def count_and_limit(count: int, limit: int) -> tuple[str, str]:
    """('345.6 million', '67.1 million'); exact figures when rounding would make them equal."""
    shown = millions(count), millions(limit)
    return shown if shown[0] != shown[1] else (f"{count:,}", f"{limit:,}")


def file_name_too_long(name: str) -> str | None:
    """None for a name a file system can hold; else why not, in words for the uploader."""
    size = len(name.encode("utf-8", "surrogatepass"))
    if size <= MAX_FILE_NAME_BYTES:
        return None
    return f"name is too long ({size} characters; a file name has at most {MAX_FILE_NAME_BYTES})"


def check_recording_size(
    source: str,
    *,
    n_leads: int,
    samples_per_lead: int,
    fs_hz: float,
    decoded_samples: int | None = None,
) -> None:
    """Refuse a recording longer than MAX_DURATION_S, or with more than MAX_DECODED_SAMPLES
    samples in all (`decoded_samples`, when the file stores more than leads x samples, e.g.
    several samples per frame), from what its header announces, before reading it."""
    check_lead_count(source, n_leads)
    total = decoded_samples if decoded_samples is not None else n_leads * samples_per_lead
    duration_s = samples_per_lead / fs_hz if fs_hz > 0 else 0.0
    if duration_s > MAX_DURATION_S:
        raise DurationError(
            f"{source} announces a recording of {duration_text(duration_s)}; at most "
            f"{MAX_DURATION_S / 3600:g} hours can be analysed in one recording. Export it in "
            f"parts of {MAX_DURATION_S / 3600:g} hours or less."
        )
    if total > MAX_DECODED_SAMPLES:
        leads = f"{n_leads} lead{'s' if n_leads != 1 else ''}"
        rate = f" at {fs_hz:g} Hz" if fs_hz > 0 else ""
        count, limit = count_and_limit(total, MAX_DECODED_SAMPLES)
        raise RecordingTooLargeError(
            f"{source} announces {leads} of {duration_text(duration_s)}{rate}: {count} "
            f"samples in all. The portal analyses at most {limit} samples in one recording "
            f"({HOLTER_EXAMPLE}). Export it at a lower sampling rate, with fewer leads, or in "
            "shorter parts."
        )


def check_lead_count(source: str, n_leads: int, *, what: str = "signals") -> None:
    if n_leads > MAX_LEADS:
        raise RecordingTooLargeError(
            f"{source} holds {n_leads} {what}; the portal reads ECGs of at most {MAX_LEADS} "
            "leads (a 12-lead ECG has 12, a Holter 2 or 3). Export only the ECG leads."
        )


# An absolute path (POSIX or Windows) inside a message from a library (pyEDFlib, wfdb, pandas).
_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?(?:[\\/][^\s\\/:'\"()\[\],;]+){2,}[\\/]?")


def without_paths(text: str) -> str:
    """A library's message with every absolute path cut to its last part (the file name):
    messages are shown to users and must not reveal where the server keeps files."""
    return _PATH.sub(lambda match: re.split(r"[\\/]", match.group(0).rstrip("\\/"))[-1], text)
