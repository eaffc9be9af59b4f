"""The portal's domain errors: one base class, each with the HTTP status and the sentence a
clinician reads. `portal.errors` turns any of them into the error page (or JSON under /api/);
routes raise them and never translate them one by one."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    default_message = "This action is not possible."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0])


class NotAllowed(DomainError, LookupError):
    """No such record, or not for this account: the two look the same (404)."""

    status = 404
    default_message = "This page does not exist, or you do not have access to it."


class SigningConflict(DomainError):
    """Someone else signed or changed the report first. `unsigned`: it is still unsigned
    (moved to another patient meanwhile): the doctor's read stays in the sign form.
    `withdrawn`: it was withdrawn as entered in error meanwhile: nothing can be signed on it,
    so no read is kept to sign over another."""

    status = 409

    def __init__(
        self, message: str | None = None, *, unsigned: bool = False, withdrawn: bool = False
    ) -> None:
        super().__init__(message)
        self.unsigned = unsigned
        self.withdrawn = withdrawn


class ReportWithdrawn(DomainError):
    """A report withdrawn as entered in error (`services.entered_in_error`): it has no PDF."""

    status = 410
    default_message = (
        "This report was withdrawn as entered in error (not a true record of this patient's "
        "ECG), and it has no PDF. Its review page keeps it for the record."
    )


class NotSignedYet(DomainError):
    """A patient summary of an unsigned read: it tells the patient their doctor checked and
    signed the result (`documents.ensure_document` refuses to make one)."""

    status = 409
    default_message = "The patient summary is made once a doctor has signed the report."


class RecordingFilesMissing(DomainError):
    """The stored files of a report's recording are missing or cannot be read (lost in a
    restore, deleted): the chart and the clinician PDF cannot be drawn. The report and its
    measurements are in the database and stand; an operations audit had met a 500 saying
    "please try again" and a blank chart."""

    status = 410

    def __init__(self, recording_id: int) -> None:
        super().__init__(
            f"This recording's files are missing from storage or unreadable (recording "
            f"{recording_id}): the report and its measurements are kept; restore the files "
            "from the backup (`cardio storage verify` lists what is missing)."
        )


class JobNotRetryable(DomainError):
    status = 409
    default_message = "Only a failed analysis can be retried."


class UploadedMeanwhile(DomainError):
    """The same file registered for the same patient by another request at the same moment
    (a double click, a web and an interface upload at once): it is stored and analysed once."""

    status = 409
    default_message = (
        "This file was uploaded for this patient by another request at the same moment; it is "
        "stored and analysed once. Open the patient's recordings to find it."
    )


class AccountDeactivated(DomainError):
    """The acting account was deactivated while its request was in flight."""

    status = 403
    default_message = (
        "Your account was deactivated while this was being saved; nothing was saved. Ask an "
        "administrator."
    )
