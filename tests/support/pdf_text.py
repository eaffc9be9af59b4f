"""A PDF's words, read back with poppler's pdftotext, for tests that check what a PDF says."""

from __future__ import annotations

import subprocess
from pathlib import Path


def pdf_words(pdf: bytes, tmp_path: Path, name: str) -> str:
    """The PDF's text as one line of words (sentences wrap across lines on the page)."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.split())
