"""HTML -> PDF with WeasyPrint, safely.

- Every value is autoescaped (Jinja `autoescape=True`): patient fields render as text.
- The URL fetcher allows only `data:` URIs and files inside `reports/templates/` (the CSS and
  fonts it ships); no file://, no http(s), so no redirects either. Refused URLs are recorded.
- Each render runs in a render process of `reports.pool` (started on the first render, kept
  warm between renders) with a time limit, so a pathological document can neither hang nor
  crash the web process: one over its limit is killed and a fresh process takes its place.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from reports.next_steps import NEXT_STEPS

if TYPE_CHECKING:  # the render processes need only pdf_bytes: they import no ml/ module
    from reports.data import ReportData

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGE_SIZES = ("A4", "Letter")
KINDS = ("clinician", "patient")
DEFAULT_TIME_LIMIT_S = 60.0


class RenderError(RuntimeError):
    pass


def safe_fetcher() -> Any:
    """A WeasyPrint URL fetcher that serves only data: URIs and our own template assets.

    Built lazily so importing this module does not import WeasyPrint.
    """
    from weasyprint.urls import URLFetcher

    class SafeFetcher(URLFetcher):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(allowed_protocols={"data", "file"}, allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:") or _is_own_asset(url):
                return super().fetch(url, headers)
            self.refused.append(url)
            raise ValueError(f"refused to fetch {url!r}: reports may only use their own assets")

    return SafeFetcher()


def _is_own_asset(url: str) -> bool:
    if not url.startswith("file://"):
        return False
    path = Path(url[len("file://") :].split("?")[0]).resolve()
    return path.is_relative_to(TEMPLATES) and path.is_file()


def _environment() -> Environment:
    from portal.risk import BAND_WORDS  # lazily: portal imports reports
    from reports import plain_language  # lazily, like ReportData (it reads ml/'s vocabulary)

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["plain"] = plain_language
    env.globals["next_step_labels"] = {code: s.label for code, s in NEXT_STEPS.items()}
    env.filters["ms"] = lambda v: "—" if v is None else f"{v:.0f} ms"
    env.globals["input_words"] = input_words
    env.globals["risk_figure_text"] = risk_figure_text
    env.globals["risk_band_words"] = BAND_WORDS
    return env


def risk_figure_text(model: str, risk_percent: float) -> str:
    """ "13.5 %", or "> 30 % (beyond the range the model was built on)" (`portal.risk_words`)."""
    from portal.risk_words import risk_figure_text as in_words  # lazily: portal imports reports

    return in_words(model, risk_percent)


def input_words(name: str, value: Any) -> str:
    """A risk model's input in a clinician's words, with its unit at clinical precision:
    ("total_chol_mg_dl", 224.29) -> "total cholesterol 224 mg/dL" (`portal.risk_words`, the
    one table of those words). A value already in words (as the portal passes them) is kept."""
    from portal.risk_words import factor_label, input_text  # lazily: portal imports reports

    if isinstance(value, str) and value.startswith(f"{factor_label(name)} "):
        return value
    return input_text(name, value)


def html_for(kind: str, data: ReportData, page_size: str = "A4") -> str:
    if kind not in KINDS:
        raise RenderError(f"unknown report kind {kind!r}; use one of {', '.join(KINDS)}")
    if page_size not in PAGE_SIZES:
        raise RenderError(f"page size {page_size!r} is not one of {', '.join(PAGE_SIZES)}")
    template = _environment().get_template(f"{kind}.html")
    return template.render(d=data, page_size=page_size)


def pdf_bytes(html: str, fetcher: Any = None) -> bytes:
    """Render in this process (tests and the render processes use it)."""
    from weasyprint import HTML

    return HTML(
        string=html, base_url=str(TEMPLATES) + "/", url_fetcher=fetcher or safe_fetcher()
    ).write_pdf(pdf_variant="pdf/ua-1")


def render_pdf(
    kind: str,
    data: ReportData,
    *,
    page_size: str = "A4",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> bytes:
    """The PDF for `kind` ('clinician' or 'patient'), rendered by this process's render pool
    with a time limit."""
    from reports.pool import shared_pool  # lazily: reports.pool imports this module

    return shared_pool().render(html_for(kind, data, page_size), time_limit_s)
