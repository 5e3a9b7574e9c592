"""The README's first command (`make demo`) keeps working: emulator, check, real exchange,
register, doctor."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_runs_end_to_end() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.returncode == 0, out.stderr
    assert "ServiceNow emulator listening on http://127.0.0.1:" in out.stdout
    assert "[missing-file]" in out.stdout  # the check step ran on examples/
    assert "access token " in out.stdout and "(86 characters)" in out.stdout
    assert "second call reused the cached token: yes" in out.stdout
    assert "token requests the emulator received: 1" in out.stdout
    # the instance side: a client registered for a connection without one, its first token, the doctor
    assert "registered client " in out.stdout and "secret in .env" in out.stdout
    assert "first token fetched: yes" in out.stdout
    assert 'client_secret = "${env:SNOW_MINE_CLIENT_SECRET}"' in out.stdout
    assert "\nAll good: mine gets a token from http://127.0.0.1:" in out.stdout
    assert "admin-password" not in out.stdout + out.stderr
