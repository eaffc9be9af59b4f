"""The machine read's conclusion, which pre-fills the sign form, names every finding the read
lists, the main one first (`jobs.machine_conclusion`). An operations audit: MIT-BIH 100 listed
"Ventricular ectopic beats 1 beat" and "Supraventricular ectopic beats 34 beats", and its
conclusion read "Ventricular ectopic beats" alone: signed as prefilled, the 34 were dropped."""

from __future__ import annotations

import html
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ml.findings import Finding
from portal.models import EcgReport
from portal.services.jobs import CONCLUSION_CHARS, machine_conclusion
from portal.worker import Worker
from tests.conftest import People, client_for, upload_file
from tests.support.af_pvc_recording import af_pvc_av_block_recording
from tests.support.ecg_files import write_csv


def test_the_machine_conclusion_names_every_finding_main_first(
    app: Flask, people: People, sql: Session, tmp_path: Path
) -> None:
    recording, _ = af_pvc_av_block_recording()
    content = write_csv(tmp_path / "af-pvc.csv", recording).read_bytes()
    staff = client_for(app, people.staff)
    assert upload_file(staff, people.patient.id, content, "af-pvc.csv").status_code == 302
    assert Worker(app).run_pending() == 1
    report = sql.scalar(select(EcgReport))
    machine = report.versions[0]
    read = machine.analysis
    labels = [f["label"] for f in read["findings"]]
    assert len(labels) >= 2, labels  # AF, PVCs, a first-degree AV block
    main = read["main_finding"]["label"]
    others = [label for label in labels if label != main]
    assert machine.conclusion == "; ".join([main, *others])

    page = client_for(app, people.doctor).get(f"/reports/{report.id}").get_data(as_text=True)
    prefilled = page.split('id="conclusion"', 1)[1].split("</textarea>", 1)[0]
    assert all(html.escape(label, quote=False) in prefilled for label in labels)


def test_a_conclusion_over_the_sign_forms_limit_counts_the_findings_it_leaves_out() -> None:
    findings = [Finding("PVC", f"Finding {k} " + "x" * 990, "low") for k in range(6)]
    said = machine_conclusion(findings, findings[2])
    assert len(said) <= CONCLUSION_CHARS
    assert said.startswith("Finding 2 ") and said.endswith(
        "; and 3 other finding(s): see the findings"
    )
