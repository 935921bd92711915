"""The shipped files are exactly what scripts/make_demo_payloads.py writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "src" / "omnicx" / "_demo"


def _files(base: Path) -> dict[str, bytes]:
    out = {p.relative_to(base).as_posix(): p.read_bytes() for p in (base / "payloads").iterdir()}
    out["manifest.json"] = (base / "manifest.json").read_bytes()
    return out


def test_regenerating_gives_byte_identical_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_demo_payloads.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    fresh, shipped = _files(tmp_path), _files(SHIPPED)
    assert sorted(fresh) == sorted(shipped)
    different = [name for name in shipped if fresh[name] != shipped[name]]
    assert different == [], f"regenerate with scripts/make_demo_payloads.py: {different} differ"


def test_another_seed_gives_other_values(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "make_demo_payloads.py"),
            "--out",
            str(tmp_path),
            "--seed",
            "7",
        ],
        capture_output=True,
        check=True,
    )
    assert (tmp_path / "manifest.json").read_bytes() != (SHIPPED / "manifest.json").read_bytes()
