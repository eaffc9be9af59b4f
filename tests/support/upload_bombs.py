"""The hostile uploads of issue 15, written to disk: small files that would cost gigabytes if
read naively, each with the words its refusal must contain. Shared by the reader test
(tests/test_upload_bombs.py) and the live-server test (tests/test_upload_bombs_server.py)."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ml.io import limits
from tests.support.ecg_files import (
    edf_announcing,
    synthetic,
    write_constant_wfdb,
    write_edf,
    write_wfdb,
    write_zip,
    write_zip_of_filler,
    zip_with_wrong_field,
)

# The reproduction: 672 KB on the wire, 48 h of one lead at 2000 Hz in its header.
BIG_HEADER = b"big 1 2000 345600000\nbig.dat 16 200 16 0 0 0 0 MLII\n"
BIG_DAT_BYTES = 691_200_000
PEAK_RSS_LIMIT_MB = 1500  # the bound on what any upload may cost a process
SERVER_PATH = re.compile(r"(?<![\w.])/[\w.-]+/")  # must appear in no message


@dataclass(frozen=True)
class Bomb:
    key: str
    label: str
    files: tuple[Path, ...]
    words: str  # in the message the uploader reads


def _small_record(folder: Path) -> list[Path]:
    folder.mkdir(exist_ok=True)
    return write_wfdb(folder, synthetic(20, 360), "rec")


def _zipped(path: Path, files: list[Path], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as bundle:
        for file in files:
            bundle.write(file, file.name)
    return path


def write_bombs(folder: Path) -> list[Bomb]:
    """Every hostile file, written once (about 5 s, 110 MB on disk)."""
    record = _small_record(folder / "record")
    good_zip = _zipped(folder / "good.zip", record).read_bytes()

    big = write_zip_of_filler(folder / "big.zip", {"big.hea": BIG_HEADER}, "big.dat", BIG_DAT_BYTES)
    gigabyte = write_zip_of_filler(folder / "zeros.zip", {}, "zeros.dat", 1 << 30)
    lying = folder / "lying.zip"  # 1 GB of zeros declared as 50 MB: stops at 50 MB
    declared = 50_000_000 - (1 << 30)
    lying.write_bytes(zip_with_wrong_field(gigabyte.read_bytes(), "zeros.dat", "size", declared))

    announcing = folder / "announcing"
    announcing.mkdir()
    (announcing / "big.hea").write_bytes(BIG_HEADER)
    (announcing / "big.dat").write_bytes(bytes(1000))
    sixty_hours = folder / "sixty-hours"
    sixty_hours.mkdir()
    signal_line = "long.dat 16 200 16 0 0 0 0 II\n"
    (sixty_hours / "long.hea").write_text("long 2 250 54000000\n" + signal_line * 2)
    (sixty_hours / "long.dat").write_bytes(bytes(1000))

    many_leads = folder / "many-leads"
    many_leads.mkdir()
    lead_lines = "".join(f"wide.dat 16 200 16 0 0 0 0 L{i}\n" for i in range(1000))
    (many_leads / "wide.hea").write_text("wide 1000 250 2500\n" + lead_lines)
    (many_leads / "wide.dat").write_bytes(bytes(5_000_000))  # 10 s of 1000 flat leads

    edf = write_edf(folder / "twelve.edf", synthetic(10, 1000, leads=_TWELVE))
    edf_samples = edf_announcing(edf, folder / "forty-hours-twelve-leads.edf", 40 * 3600)
    edf_hours = edf_announcing(edf, folder / "years.edf", 99_999_999)

    csv = folder / "values.csv"  # 2 bytes a value: 33.6 MB of "0,1"
    csv.write_bytes(b"I,II\n" + b"0,1\n" * (limits.MAX_CSV_VALUES // 2 + 8))

    crc = folder / "wrong-crc.zip"
    crc.write_bytes(zip_with_wrong_field(good_zip, "rec.dat", "crc", 1))
    smaller = folder / "size-smaller.zip"
    smaller.write_bytes(zip_with_wrong_field(good_zip, "rec.dat", "size", -1000))
    larger = folder / "size-larger.zip"
    larger.write_bytes(zip_with_wrong_field(good_zip, "rec.dat", "size", 1000))
    nested = write_zip(folder / "nested.zip", {"inner.zip": good_zip})
    bzip2 = _zipped(folder / "bzip2.zip", record, zipfile.ZIP_BZIP2)

    at_limit = folder / "at-limit"  # the largest recording the limits admit, all impossible
    at_limit.mkdir()
    limit_files = write_constant_wfdb(
        at_limit, limits.MAX_DECODED_SAMPLES, fs_hz=2000, byte=0xFF, gain=1
    )
    return [
        Bomb("issue-zip", "the issue's 672 KB zip: 48 h at 2000 Hz, 691 MB of zeros", (big,),
             "unpacks to 691 MB"),
        Bomb("gigabyte-zip", "1 GB of zeros, zipped", (gigabyte,), "unpacks to 1,074 MB"),
        Bomb("lying-zip", "1 GB of zeros declared as 50 MB", (lying,), "checksum does not match"),
        Bomb("header-samples", "a header announcing 345.6 million samples",
             tuple(sorted(announcing.iterdir())), "345.6 million samples"),
        Bomb("header-hours", "a header announcing 60 hours", tuple(sorted(sixty_hours.iterdir())),
             "at most 48 hours"),
        Bomb("header-leads", "a header announcing 1000 leads", tuple(sorted(many_leads.iterdir())),
             "at most 64 leads"),
        Bomb("edf-samples", "an EDF announcing 40 hours of 12 leads at 1000 Hz", (edf_samples,),
             "1728.0 million samples"),
        Bomb("edf-hours", "an EDF announcing 99,999,999 records", (edf_hours,),
             "at most 48 hours"),
        Bomb("csv-values", "a CSV of 16.8 million values", (csv,), "values from a CSV file"),
        Bomb("zip-crc", "a zip with a wrong CRC", (crc,), "checksum does not match"),
        Bomb("zip-size-smaller", "a zip declaring a smaller size", (smaller,),
             "checksum does not match"),
        Bomb("zip-size-larger", "a zip declaring a larger size", (larger,),
             "but the .zip declares"),
        Bomb("zip-in-zip", "a zip inside a zip", (nested,), "another .zip"),
        Bomb("zip-bzip2", "a zip compressed with bzip2", (bzip2,), "standard one (deflate)"),
        Bomb("largest-admitted", "the largest recording admitted (67.1 million samples), all "
             "impossible values", tuple(limit_files), "every sample is missing"),
    ]  # fmt: skip


_TWELVE = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


BOMB_KEYS = [
    "issue-zip", "gigabyte-zip", "lying-zip", "header-samples", "header-hours", "header-leads",
    "edf-samples",
    "edf-hours", "csv-values", "zip-crc", "zip-size-smaller", "zip-size-larger", "zip-in-zip",
    "zip-bzip2", "largest-admitted",
]  # fmt: skip
