"""The demo: a local ServiceNow emulator, `snowauth check` on examples/, a real token
exchange with `snowauth token`, the token printed masked with its expiry; then the
instance side: `snowauth register` creates an OAuth client for a connection that has
none (as the emulator's admin), its first token is fetched, and `snowauth doctor` walks
the connection's chain. Run it with `make demo`; it needs nothing else running."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from snowauth.emulator import Emulator
from snowauth.trust import local_emulator

HERE = Path(__file__).resolve().parent


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    print(f"$ snowauth {' '.join(args)}", flush=True)
    return subprocess.run(
        [sys.executable, "-m", "snowauth", *args], env=env, text=True, capture_output=True, check=False
    )


def mask(token: str) -> str:
    return f"{token[:4]}…{token[-4:]} ({len(token)} characters)"


def main() -> int:
    # registered as the user's own emulator, like `snowauth emulator`: the only loopback
    # address snowauth sends credentials to without asking (see snowauth.trust)
    with Emulator() as emu, local_emulator(emu.url), tempfile.TemporaryDirectory(prefix="snowauth-demo-") as cache:
        print(f"ServiceNow emulator listening on {emu.url}\n")
        env = {
            **os.environ,
            "SNOW_DEMO_INSTANCE": emu.url,
            "SNOW_DEMO_CLIENT_SECRET": "demo-client-secret",  # the emulator's built-in demo client
            "SNOW_DEMO_PASSWORD": "demo-password",
            "SNOWAUTH_CACHE_DIR": cache,
        }
        check = run(["check", str(HERE)], env)
        print(check.stdout or "no problems found", end="" if check.stdout else "\n")
        if check.returncode != 0:
            print(check.stderr, file=sys.stderr)
            return check.returncode
        print()
        token = run(["token", str(HERE / "demo.snowauth.toml"), "--format", "json"], env)
        if token.returncode != 0:
            print(token.stderr, file=sys.stderr)
            return token.returncode
        data = json.loads(token.stdout)
        print(f"connection   {data['connection']}")
        print(f"access token {mask(data['access_token'])}")
        print(f"token type   {data['token_type']}, scope {data['scope']}")
        print(f"expires at   {data['expires_at']}")
        again = run(["token", str(HERE / "demo.snowauth.toml"), "--format", "header"], env)
        reused = again.returncode == 0 and again.stdout.strip().endswith(data["access_token"])
        print(f"second call reused the cached token: {'yes' if reused else 'no'}")
        print(f"token requests the emulator received: {emu.token_requests}")
        if not (reused and emu.token_requests == 1):
            return 1
        return instance_side(emu.url, env)


NEW_CONNECTION = """[connections.mine]
instance = "{url}"
grant_type = "password"
username = "integration.user"
password = "${{env:SNOW_DEMO_PASSWORD}}"
token_store = "cache"
"""


def instance_side(url: str, env: dict[str, str]) -> int:
    """Register a client for a connection without one, fetch its token, diagnose it."""
    # the emulator's demo admin; without a terminal snowauth reads the admin from the
    # process environment (never from a .env), and stores it nowhere
    admin = {**env, "SNOW_ADMIN_USER": "admin", "SNOW_ADMIN_PASSWORD": "admin-password"}
    with tempfile.TemporaryDirectory(prefix="snowauth-demo-project-") as project:
        file = Path(project) / "mine.snowauth.toml"
        file.write_text(NEW_CONNECTION.format(url=url), encoding="utf-8")
        print()
        registered = run(["register", str(file), "--connection", "mine", "--fetch"], admin)
        if registered.returncode != 0:
            print(registered.stderr, file=sys.stderr)
            return registered.returncode
        result = json.loads(registered.stdout)
        print(f"registered client {result['client_id']}, secret in {Path(result['secret_file']).name}")
        print(f"first token fetched: {'yes' if result['fetched'] else 'no'}")
        written = [line for line in file.read_text(encoding="utf-8").splitlines() if line.startswith("client_")]
        print("the connection now has:\n  " + "\n  ".join(written))
        print()
        doctor = run(["doctor", str(file), "--connection", "mine"], admin)
        print(doctor.stdout, end="")
        if doctor.returncode != 0:
            print(doctor.stderr, file=sys.stderr)
        return doctor.returncode if result["fetched"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
