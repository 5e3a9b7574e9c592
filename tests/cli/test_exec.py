"""`snowauth exec FILE -- COMMAND` as a subprocess against the emulator over loopback HTTP.

COMMAND is a small Python script (written per test) that reports what it saw: its argv
and the names of its snowauth variables on stdout, the values it was given only as
digests or comparisons in a report file, and the answer of the instance's REST API to
the header it was given. No token is printed, by the child or by the test."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from snowauth.emulator import Emulator
from tests.kit.cli import run_snowauth, start_snowauth
from tests.kit.emulator import DEMO_SECRET, USER, USER_PASSWORD, password_connection

VARIABLES = [
    "SNOWAUTH_ACCESS_TOKEN",
    "SNOWAUTH_AUTHORIZATION",
    "SNOWAUTH_INSTANCE_URL",
    "SN_SDK_INSTANCE_URL",
    "SN_SDK_SESSION_BEARER_TOKEN",
]
# what the parent holds when snowauth starts: exec replaces the first five and removes
# the SDK's basic-auth session (it names another session)
STALE = {
    "SNOWAUTH_ACCESS_TOKEN": "stale-access-token",
    "SNOWAUTH_AUTHORIZATION": "Bearer stale-access-token",
    "SNOWAUTH_INSTANCE_URL": "https://stale.service-now.com",
    "SN_SDK_INSTANCE_URL": "https://stale.service-now.com",
    "SN_SDK_SESSION_BEARER_TOKEN": "stale-access-token",
    "SN_SDK_SESSION_TOKEN": "stale-session-token",
    "SN_SDK_SESSION_COOKIE": "stale-session-cookie",
}

CHILD = r"""
import hashlib, json, os, signal, sys, time, urllib.request
from pathlib import Path

out = Path(sys.argv[1])
mode = sys.argv[2]
keys = sorted(k for k in os.environ if k.startswith(("SNOWAUTH_", "SN_", "SNOW_")))
print(json.dumps({"argv": sys.argv, "keys": keys}), flush=True)
if mode == "report":
    token = os.environ["SNOWAUTH_ACCESS_TOKEN"]
    url = os.environ["SNOWAUTH_INSTANCE_URL"]
    request = urllib.request.Request(
        url + "/api/now/ui/user/current_user",
        headers={"Authorization": os.environ["SNOWAUTH_AUTHORIZATION"], "Accept": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        status, user = response.status, json.load(response)["result"]["user_name"]
    report = {
        "instance_url": url,
        "sdk_instance_url": os.environ["SN_SDK_INSTANCE_URL"],
        "token_sha256": hashlib.sha256(token.encode()).hexdigest(),
        "authorization_is_bearer_token": os.environ["SNOWAUTH_AUTHORIZATION"] == "Bearer " + token,
        "sdk_token_is_token": os.environ["SN_SDK_SESSION_BEARER_TOKEN"] == token,
        "rest_status": status,
        "rest_user": user,
    }
    (out / "report.json").write_text(json.dumps(report))
elif mode == "exit":
    sys.exit(int(sys.argv[3]))
elif mode == "kill-self":
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
elif mode == "wait-for-signal":
    def caught(signum, frame):
        (out / "signal").write_text(str(signum))
        sys.exit(7)
    signal.signal(signal.SIGINT, caught)
    signal.signal(signal.SIGTERM, caught)
    (out / "ready").write_text("")
    time.sleep(60)
    sys.exit(9)
elif mode == "mark":
    (out / "ran").write_text("")
"""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Setup:
    """A connection file for the emulator (password grant, the token cache in the test's
    folder), the child script and the environment snowauth runs in."""

    def __init__(self, tmp_path: Path, emulator: Emulator, *, password: str = "${env:SNOW_X_PASSWORD}") -> None:
        self.folder = tmp_path
        self.file = tmp_path / "dev.snowauth.toml"
        self.file.write_text(
            password_connection(
                emulator.url,
                secret="${env:SNOW_X_SECRET}",
                password=password,
                extra='token_store = "cache"\n',
            ),
            encoding="utf-8",
        )
        self.child = tmp_path / "child.py"
        self.child.write_text(CHILD, encoding="utf-8")
        self.env: Mapping[str, str] = {
            **os.environ,
            **STALE,
            "SNOW_X_SECRET": DEMO_SECRET,
            "SNOW_X_PASSWORD": USER_PASSWORD,
            "SNOWAUTH_CACHE_DIR": str(tmp_path / "cache"),
        }

    def command(self, mode: str, *more: str) -> list[str]:
        return ["exec", str(self.file), "--", sys.executable, str(self.child), str(self.folder), mode, *more]

    def run(self, mode: str, *more: str) -> subprocess.CompletedProcess[str]:
        return run_snowauth(*self.command(mode, *more), env=self.env)


def child_view(out: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    """What the child printed: its argv and the names of its snowauth variables."""
    view: dict[str, list[str]] = json.loads(out.stdout.splitlines()[0])
    return view


def issued(emulator: Emulator) -> set[str]:
    """The digests of the access tokens the emulator issued."""
    with emulator.state.lock:
        return {sha256(t) for t in emulator.state.access_tokens}


def assert_no_token(emulator: Emulator, *texts: str) -> None:
    with emulator.state.lock:
        tokens = list(emulator.state.access_tokens) + list(emulator.state.refresh_tokens)
    assert tokens
    for text in texts:
        for token in tokens:
            assert token not in text, "a token was printed"


def test_the_child_sees_every_variable_and_no_token_in_argv_or_output(tmp_path: Path, emulator: Emulator) -> None:
    setup = Setup(tmp_path, emulator)
    out = setup.run("report")
    assert out.returncode == 0, out.stderr
    seen = child_view(out)
    # argv is what was given after `--`, nothing added
    assert seen["argv"] == [str(setup.child), str(tmp_path), "report"]
    # the variables set, and the SDK's basic-auth session removed
    given = {k for k in setup.env if k.startswith(("SNOWAUTH_", "SN_", "SNOW_"))}
    assert seen["keys"] == sorted(given - {"SN_SDK_SESSION_TOKEN", "SN_SDK_SESSION_COOKIE"})
    assert set(VARIABLES) <= given and "SNOWAUTH_CACHE_DIR" in given  # kept
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["instance_url"] == emulator.url and report["sdk_instance_url"] == emulator.url
    assert report["authorization_is_bearer_token"] and report["sdk_token_is_token"]
    assert report["rest_status"] == 200 and report["rest_user"] == USER
    assert emulator.token_requests == 1
    assert issued(emulator) == {report["token_sha256"]}  # the one token the emulator issued
    assert report["token_sha256"] != sha256(STALE["SNOWAUTH_ACCESS_TOKEN"])
    assert_no_token(emulator, out.stdout, out.stderr, " ".join(seen["argv"]))
    assert USER_PASSWORD not in out.stderr and DEMO_SECRET not in out.stderr


def test_a_second_exec_reuses_the_cached_token(tmp_path: Path, emulator: Emulator) -> None:
    setup = Setup(tmp_path, emulator)
    first = setup.run("report")
    assert first.returncode == 0, first.stderr
    digest = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["token_sha256"]
    second = setup.run("report")
    assert second.returncode == 0, second.stderr
    assert emulator.token_requests == 1  # no second token request
    assert json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["token_sha256"] == digest
    assert_no_token(emulator, first.stdout, first.stderr, second.stdout, second.stderr)


@pytest.mark.parametrize(("how", "expected"), [(("exit", "0"), 0), (("exit", "3"), 3), (("kill-self",), 143)])
def test_exit_status_is_the_child_s(tmp_path: Path, emulator: Emulator, how: tuple[str, ...], expected: int) -> None:
    setup = Setup(tmp_path, emulator)
    out = setup.run(*how)
    assert out.returncode == expected, out.stderr
    assert child_view(out)["argv"] == [str(setup.child), str(tmp_path), *how]  # the child did run
    assert "Traceback" not in out.stderr
    assert_no_token(emulator, out.stdout, out.stderr)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_sent_to_snowauth_reaches_the_child(tmp_path: Path, emulator: Emulator, signum: int) -> None:
    setup = Setup(tmp_path, emulator)
    process = start_snowauth(*setup.command("wait-for-signal"), env=setup.env)
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "ready").exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert (tmp_path / "signal").read_text(encoding="utf-8") == str(int(signum))
    assert process.returncode == 7, stderr  # snowauth waited for the child and exits with its status
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert_no_token(emulator, stdout, stderr)


def test_a_rejected_grant_never_runs_the_child(tmp_path: Path, emulator: Emulator) -> None:
    setup = Setup(tmp_path, emulator, password="wrong-password-123")
    out = setup.run("mark")
    assert out.returncode == 2
    assert out.stdout == ""
    assert not (tmp_path / "ran").exists()
    # the message `snowauth token` prints for it
    assert "rejected the password grant" in out.stderr
    token = run_snowauth("token", str(setup.file), env=setup.env)
    assert token.returncode == 1 and token.stderr.splitlines()[-1] == out.stderr.splitlines()[-1]
    assert "wrong-password-123" not in out.stderr and DEMO_SECRET not in out.stderr


def test_a_refused_host_and_a_file_with_errors_never_run_the_child(tmp_path: Path, emulator: Emulator) -> None:
    setup = Setup(tmp_path, emulator)
    # a host never confirmed, and no terminal to ask on
    setup.file.write_text(
        setup.file.read_text(encoding="utf-8").replace(emulator.url, "https://dev12345.service-now.com"),
        encoding="utf-8",
    )
    refused = setup.run("mark")
    assert refused.returncode == 2 and "Nothing was sent" in refused.stderr
    setup.file.write_text('[connections.dev]\ninstance = "https://dev12345.service-now.com"\n', encoding="utf-8")
    broken = setup.run("mark")
    assert broken.returncode == 2 and broken.stderr.startswith("snowauth: ")
    missing = run_snowauth("exec", str(tmp_path / "none.snowauth.toml"), "--", sys.executable, "-c", "", env=setup.env)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert not (tmp_path / "ran").exists()
    assert emulator.token_requests == 0


def test_usage_errors_and_a_command_not_found(tmp_path: Path, emulator: Emulator) -> None:
    setup = Setup(tmp_path, emulator)
    for args in (["exec", str(setup.file)], ["exec", str(setup.file), "--"], ["exec", "--", "true"]):
        out = run_snowauth(*args, env=setup.env)
        assert out.returncode == 2 and "usage: snowauth exec" in out.stderr, args
    absent = run_snowauth("exec", str(setup.file), "--", "snowauth-no-such-command-x", env=setup.env)
    assert absent.returncode == 127
    assert absent.stderr.strip() == "snowauth: snowauth-no-such-command-x: command not found"
    assert emulator.token_requests == 0  # said before any grant runs


README_CURL = (
    'echo "Authorization: $SNOWAUTH_AUTHORIZATION" | '
    'curl -sS -H @- "$SNOWAUTH_INSTANCE_URL/api/now/table/sys_user?sysparm_limit=1"'
)


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_readme_s_curl_line_reads_the_table_api(tmp_path: Path, emulator: Emulator) -> None:
    """The README's curl example, as written there: the header goes to curl on its stdin
    (echo is the shell's own), so the token is in no program's argv."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"-- sh -c '{README_CURL}'" in readme
    setup = Setup(tmp_path, emulator)
    out = run_snowauth("exec", str(setup.file), "--", "sh", "-c", README_CURL, env=setup.env)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["result"]
    assert len(rows) == 1 and "user_name" in rows[0]
    assert ("GET", "/api/now/table/sys_user") in emulator.requests
    assert_no_token(emulator, out.stdout, out.stderr)
