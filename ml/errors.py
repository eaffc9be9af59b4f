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


class InvalidHeaderError(RecordingError):
    """A header that states something impossible (a zero or negative gain, a rate of NaN):
    refused, never replaced by a default, because every amplitude or time would be wrong."""


class SamplingRateError(RecordingError):
    pass


class DurationError(RecordingError):
    pass


class UnusableSignalError(RecordingError):
    """No lead left to analyse: all missing, flat or clipped."""


class UnknownUnitsError(RecordingError):
    pass


class UnsafeArchiveError(RecordingError):
    pass
