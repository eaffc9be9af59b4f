"""Errors a recording can cause, each with a message a clinician understands.

They all derive from `RecordingError`, so the portal turns any of them into a clear answer
(never a 500) with one handler.
"""

from __future__ import annotations


class RecordingError(ValueError):
    """A recording that cannot be analysed; `str(error)` is the message to show."""


class UnknownFormatError(RecordingError):
    pass


class HeaderDataMismatchError(RecordingError):
    pass


class TruncatedDataError(RecordingError):
    pass


class SamplingRateError(RecordingError):
    pass


class DurationError(RecordingError):
    pass


class UnusableSignalError(RecordingError):
    """NaN gaps, flat lines, clipping: the signal itself cannot be trusted."""


class UnknownUnitsError(RecordingError):
    pass


class UnsafeArchiveError(RecordingError):
    pass
