"""Long recordings for tests and benchmarks: MIT-BIH records end to end as one WFDB record.

MIT-BIH stores every record in format 212 with the same gain (200/mV), baseline (1024) and
two signals, 3 bytes a frame, so records placed end to end are their data files
concatenated byte for byte, and the checksum of the whole is the sum of theirs. Nothing is
decoded: a 24-hour record is written in a second, without holding its samples in memory.
Records whose first lead is not MLII (102, 104, 114) are left out; the second lead is named
V1 whatever it was (V1, V2, V4 or V5), which is what the analysis's lead choice reads.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from ml.research.databases import DS1, DS2

FS_HZ = 360
FRAME_BYTES = 3  # two 12-bit samples
NOT_MLII_FIRST = frozenset(("102", "104", "114"))


def mitdb_end_to_end(
    data_dir: Path,
    out_dir: Path,
    hours: float,
    records: Sequence[str] | None = None,
    name: str = "holter",
) -> Path:
    """Write `<out_dir>/<name>.hea/.dat`: MIT-BIH `records` (default: DS2 then DS1, record
    100 first) end to end, repeated as needed and cut to `hours`. Returns the header path."""
    chosen = [r for r in (records or ("100", *DS2[1:], *DS1)) if r not in NOT_MLII_FIRST]
    needed = round(hours * 3600 * FS_HZ)
    out_dir.mkdir(parents=True, exist_ok=True)
    checksums = [0, 0]
    initial: list[int] | None = None
    written = 0
    with open(out_dir / f"{name}.dat", "wb") as out:
        while written < needed:
            for record in chosen:
                header = (data_dir / f"{record}.hea").read_text().splitlines()
                n_frames = int(header[0].split()[3])
                take = min(n_frames, needed - written)
                fields = [line.split() for line in header[1:3]]
                if initial is None:
                    initial = [int(f[5]) for f in fields]
                if take == n_frames:
                    for lead, f in enumerate(fields):
                        checksums[lead] += int(f[6])
                    with open(data_dir / f"{record}.dat", "rb") as part:
                        shutil.copyfileobj(part, out)
                else:
                    with open(data_dir / f"{record}.dat", "rb") as part:
                        data = part.read(take * FRAME_BYTES)
                    for lead, total in enumerate(_sums_212(data)):
                        checksums[lead] += total
                    out.write(data)
                written += take
                if written >= needed:
                    break
    assert initial is not None
    signal_lines = [
        f"{name}.dat 212 200 11 1024 {initial[lead]} {_signed16(checksums[lead])} 0 {label}"
        for lead, label in enumerate(("MLII", "V1"))
    ]
    header_path = out_dir / f"{name}.hea"
    header_path.write_text("\n".join([f"{name} 2 {FS_HZ} {written}", *signal_lines]) + "\n")
    return header_path


def _sums_212(data: bytes) -> tuple[int, int]:
    """The sums of the two signals' samples in format-212 frames."""
    import numpy as np

    frames = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int64)
    first = frames[:, 0] | ((frames[:, 1] & 0x0F) << 8)
    second = frames[:, 2] | ((frames[:, 1] & 0xF0) << 4)
    first = np.where(first > 2047, first - 4096, first)
    second = np.where(second > 2047, second - 4096, second)
    return int(first.sum()), int(second.sum())


def _signed16(total: int) -> int:
    value = total & 0xFFFF
    return value - 0x10000 if value >= 0x8000 else value
