"""A data folder holding one cinc2017 strip, as the research table commands read one."""

from __future__ import annotations

from pathlib import Path


def one_strip_folder(root: Path, cinc: Path, name: str, label: str) -> Path:
    """`root` with `cinc2017/` holding the strip `name` (linked from `cinc`) and a
    REFERENCE.csv giving it `label`; returns `root`."""
    strips = root / "cinc2017"
    strips.mkdir()
    for suffix in (".hea", ".mat"):
        (strips / f"{name}{suffix}").symlink_to(cinc / f"{name}{suffix}")
    (strips / "REFERENCE.csv").write_text(f"{name},{label}\n")
    return root
