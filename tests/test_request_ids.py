"""Every request's id (portal/request_ids.py): in the X-Request-Id header of every response, on
every log record written while handling it, quoted by a 500 (page, REST JSON, FHIR
OperationOutcome) and carried to the Celery task it sends. An operations audit: a 500 page said
only "Something went wrong on our side. Nothing was saved; please try again.", and under
gunicorn's several workers one request's log lines could not be told from another's."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import pytest
from flask import Flask
from flask.logging import default_handler

from portal.access import public
from portal.request_ids import TASK_HEADER

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
NEW_ID = re.compile(r"[0-9a-f]{32}")
FAILING_PATHS = ("/test-fails", "/api/v1/test-fails", "/fhir/r4/test-fails")


def _failing_routes(app: Flask) -> None:
    """A page, a REST and a FHIR URL whose view fails (no view of the portal fails at will)."""

    @public
    def fails() -> str:
        raise RuntimeError("the view failed (test)")

    app.config["PROPAGATE_EXCEPTIONS"] = False  # answered as in production
    for number, path in enumerate(FAILING_PATHS):
        app.add_url_rule(path, f"test_fails_{number}", fails)


def _logged_failure(caplog: pytest.LogCaptureFixture, path: str) -> logging.LogRecord:
    (record,) = [r for r in caplog.records if r.getMessage() == f"Unhandled error on {path}"]
    return record


def test_a_500_quotes_the_id_its_header_and_its_log_line_carry(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    _failing_routes(app)
    client = app.test_client()
    caplog.set_level(logging.ERROR, logger="portal")

    page = client.get("/test-fails")
    request_id = page.headers["X-Request-Id"]
    assert page.status_code == 500 and NEW_ID.fullmatch(request_id)
    text = html.unescape(page.get_data(as_text=True))
    assert "Something went wrong on our side. Nothing was saved; please try again." in text
    assert f"Reference: {request_id} (quote it to IT support)." in text
    record = _logged_failure(caplog, "/test-fails")
    assert record.request_id == request_id  # type: ignore[attr-defined]
    # The line the server's log shows (Flask's handler, gunicorn's error log) names it.
    assert f"[request {request_id}]: Unhandled error on /test-fails" in default_handler.format(
        record
    )

    # A proxy's id (nginx's $request_id, a UUID) is kept: the proxy's log and ours agree.
    for path, proxy_id in [
        ("/api/v1/test-fails", "5f0c1e9a-7b2d-4c3e-9f10-aa55aa55aa55"),
        ("/fhir/r4/test-fails", "lb1.req_00042"),
    ]:
        answer = client.get(path, headers={"X-Request-Id": proxy_id})
        assert answer.status_code == 500 and answer.headers["X-Request-Id"] == proxy_id
        assert _logged_failure(caplog, path).request_id == proxy_id  # type: ignore[attr-defined]
        body: dict[str, Any] = answer.get_json()
        if path.startswith("/api/"):
            assert body == {"error": {
                "code": "internal_error", "field": None, "request_id": proxy_id,
                "message": "Something went wrong on the server; nothing was saved. Retry later.",
            }}  # fmt: skip
        else:  # R4: an issue's diagnostics is a string, nothing else added
            assert answer.mimetype == "application/fhir+json"
            assert body == {"resourceType": "OperationOutcome", "issue": [{
                "severity": "error", "code": "exception",
                "diagnostics": "Something went wrong on the server; nothing was saved. Retry "
                f"later. Reference: {proxy_id} (quote it to IT support).",
            }]}  # fmt: skip


@pytest.mark.parametrize(
    "sent",
    [
        "abc\r\nERROR in errors [request x]: forged line",  # log injection
        "a" * 65,  # too long
        "Smith, John 1970-01-01",  # not a token (and what a misconfigured proxy might send)
        "",
    ],
)
def test_an_id_that_is_no_safe_token_is_replaced(
    app: Flask, caplog: pytest.LogCaptureFixture, sent: str
) -> None:
    _failing_routes(app)
    caplog.set_level(logging.ERROR, logger="portal")
    answer = app.test_client().get("/test-fails", environ_overrides={"HTTP_X_REQUEST_ID": sent})
    request_id = answer.headers["X-Request-Id"]
    assert NEW_ID.fullmatch(request_id)
    assert _logged_failure(caplog, "/test-fails").request_id == request_id  # type: ignore[attr-defined]
    assert f"Reference: {request_id} " in answer.get_data(as_text=True)
    if sent:
        assert sent not in caplog.text and sent not in answer.get_data(as_text=True)


def test_every_response_carries_an_id_of_its_own(app: Flask) -> None:
    client = app.test_client()
    answers = [client.get("/health"), client.get("/login"), client.get("/no-such-page")]
    ids = [answer.headers["X-Request-Id"] for answer in answers]
    assert [answer.status_code for answer in answers] == [200, 200, 404]
    assert all(NEW_ID.fullmatch(one) for one in ids) and len(set(ids)) == 3
    # Outside a request (a worker thread, a command) a record's id is "-".
    outside = logging.getLogRecordFactory()("portal", logging.INFO, "", 0, "x", (), None)
    assert outside.request_id == "-"  # type: ignore[attr-defined]


def test_a_celery_task_a_request_sends_logs_the_requests_id(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    from portal import celery_app
    from portal.tasks import TASK_NAMES

    sent: list[dict[str, Any]] = []

    class Broker:
        def send_task(self, name: str, **options: Any) -> None:
            sent.append(options)

    app.extensions["celery"] = Broker()
    with app.test_request_context("/", headers={"X-Request-Id": "lb1.req_00042"}):
        celery_app.send(app, "documents", 7)
    celery_app.send(app, "documents", 8)  # the sweep's: no request
    assert [options.get("headers") for options in sent] == [{TASK_HEADER: "lb1.req_00042"}, None]
    assert [options["args"] for options in sent] == [[7], [8]]

    celery = celery_app.make_celery(app.config["SETTINGS"], app)
    caplog.set_level(logging.INFO, logger="portal.celery_app")
    task = celery.tasks[TASK_NAMES["documents"]]
    task.apply(args=[7], task_id="0c1e-bbbb", headers=sent[0]["headers"], throw=True)
    task.apply(args=[8], task_id="0c1e-cccc", throw=True)
    said = [r.getMessage() for r in caplog.records if r.name == "portal.celery_app"]
    assert said[0] == "PDFs of report version 7 (task 0c1e-bbbb, request lb1.req_00042) started"
    assert said[1].startswith("PDFs of report version 7 (task 0c1e-bbbb, request lb1.req_00042) ")
    assert said[2] == "PDFs of report version 8 (task 0c1e-cccc) started"
