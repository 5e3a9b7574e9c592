"""snowauth benchmarks: what a user feels, side by side with the floor and the peer tool.

    .venv/bin/python benchmarks/run.py            # or: make bench
    .venv/bin/python benchmarks/run.py --quick    # fewer repetitions (a smoke test)
    .venv/bin/python benchmarks/run.py --json out.json

Real processes, a real LSP client over stdio (``lspclient.py``), generated inputs in
``benchmarks/generated/`` (ignored by git). Prints one Markdown table: medians, p95 and
ratios (never single runs), then the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from editor import editor_rows, fmt_vs_taplo, workspace_diagnostics, workspace_folder  # noqa: E402
from inputs import ENV, SIZES, big_string_files, write_inputs  # noqa: E402
from lspclient import Client  # noqa: E402
from stats import median, met, ms, p95, pooled, pooled_median  # noqa: E402

PY = sys.executable
OURS = [PY, "-m", "snowauth", "lsp"]
FLOOR = [PY, str(HERE / "floor_server.py")]
GENERATED = HERE / "generated"
BIN = Path(PY).parent

EMULATOR_CLIENT_ID = "0123456789abcdef0123456789abcdef"
EMULATOR_SECRET = "demo-client-secret"
EMULATOR_USER, EMULATOR_PASSWORD = "integration.user", "demo-password"


def server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SNOWAUTH_")}
    env.update(ENV)
    return env


# -- 1. cold start ------------------------------------------------------------------------------


def cold_start(cmd: list[str], path: Path) -> tuple[float, float]:
    """(spawn -> initialize answered, spawn -> first diagnostics of ``path``) in ms."""
    text = path.read_text(encoding="utf-8")
    c = Client(cmd, env=server_env(), cwd=HERE)
    try:
        c.initialize(path.parent)
        t_init = time.perf_counter()
        c.open(path.as_uri(), text)
        c.diagnostics(path.as_uri(), 1)
        t_diag = time.perf_counter()
        return (t_init - c.started) * 1000, (t_diag - c.started) * 1000
    finally:
        c.close()


# -- 2-4. typing, completion, hover, memory --------------------------------------------------------


def _edit_positions(lines: list[str], n: int, seed: int) -> list[tuple[int, int]]:
    rng = random.Random(seed)
    return [(ln, rng.randint(0, len(lines[ln]))) for ln in (rng.randrange(len(lines)) for _ in range(n))]


def _request_positions(lines: list[str], n: int, seed: int, kind: str) -> list[tuple[int, int]]:
    """Completion: keys at the start of a key line, values inside `grant_type = "…"`.
    Hover: a key name, a connection's name in its header."""
    rng = random.Random(seed)
    keys = [i for i, s in enumerate(lines) if s and s[0].isalpha() and " = " in s and not s.startswith("c0")]
    grants = [i for i in keys if lines[i].startswith("grant_type")]
    headers = [i for i, s in enumerate(lines) if s.startswith("[connections.")]
    out = []
    for k in range(n):
        if kind == "completion":
            out.append((rng.choice(keys), 0) if k % 2 == 0 else (rng.choice(grants), len('grant_type = "')))
        else:
            out.append((rng.choice(keys), 2) if k % 2 == 0 else (rng.choice(headers), len("[connections.") + 2))
    return out


def session(
    cmd: list[str], path: Path, edits: int, requests: int, *, pull: bool = False, outline: bool = False
) -> dict[str, Any]:
    """One server, one document: open, type, complete, hover, then outline and lenses;
    timings in ms, RSS in MB. With ``pull`` the client asks for diagnostics
    (textDocument/diagnostic) after each edit instead of waiting for them to be pushed."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    uri = path.as_uri()
    c = Client(cmd, env=server_env(), cwd=HERE, pull=pull)
    doc = {"textDocument": {"uri": uri}}
    out: dict[str, Any] = {}
    try:
        c.initialize(path.parent)
        t0 = time.perf_counter()
        c.open(uri, text)
        if pull:
            c.request("textDocument/diagnostic", doc)
        else:
            c.diagnostics(uri, 1)
        out["open_ms"] = (time.perf_counter() - t0) * 1000
        time.sleep(0.3)  # let background work after open (git state) finish
        out["rss_open_mb"] = c.peak_rss_mb()

        version = 1
        typing: list[float] = []
        for line, col in _edit_positions(lines, edits // 2, seed=len(lines)):
            for change in (
                {"range": _range(line, col, line, col), "text": "x"},
                {"range": _range(line, col, line, col + 1), "text": ""},
            ):
                version += 1
                t = time.perf_counter()
                c.change(uri, version, [change])
                if pull:
                    c.request("textDocument/diagnostic", doc)
                else:
                    c.diagnostics(uri, version)
                typing.append((time.perf_counter() - t) * 1000)
        out["typing"] = typing
        if pull:
            return out

        for kind, method in (("completion", "textDocument/completion"), ("hover", "textDocument/hover")):
            times = []
            for line, col in _request_positions(lines, requests, seed=len(lines) + 1, kind=kind):
                t = time.perf_counter()
                c.request(method, {**doc, "position": {"line": line, "character": col}})
                times.append((time.perf_counter() - t) * 1000)
            out[kind] = times
        # the outline and the lenses, as an editor asks for them after each change
        out["symbols"], out["lenses"] = [], []
        for k in range(5 if outline else 0):
            version += 1
            end = len(lines[0]) + k % 2
            c.change(uri, version, [{"range": _range(0, end - k % 2, 0, end), "text": " " if k % 2 == 0 else ""}])
            c.diagnostics(uri, version)
            for key, method in (("symbols", "textDocument/documentSymbol"), ("lenses", "textDocument/codeLens")):
                t = time.perf_counter()
                c.request(method, doc)
                out[key].append((time.perf_counter() - t) * 1000)
        out["rss_peak_mb"] = c.peak_rss_mb()
    finally:
        c.close()
    return out


def _range(l1: int, c1: int, l2: int, c2: int) -> dict[str, Any]:
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


def navigation(cmd: list[str], path: Path, requests: int) -> dict[str, list[float]]:
    """Go to definition (from `default`), references, prepareRename and rename of a
    connection in the middle, and the document links after each of ``requests`` edits (a
    character typed into a connection, then a line break at the top), in ms."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    uri = path.as_uri()
    doc = {"textDocument": {"uri": uri}}
    heads = [i for i, s in enumerate(lines) if s.startswith("[connections.c")]
    out: dict[str, list[float]] = {k: [] for k in ("definition", "references", "rename", "links")}
    c = Client(cmd, env=server_env(), cwd=HERE)
    try:
        c.initialize(path.parent)
        c.open(uri, text)
        c.diagnostics(uri, 1)
        version, added = 1, 0  # added: line breaks typed at the top so far
        for k in range(requests):
            line = heads[(k * 7919) % len(heads)] + added
            at = {**doc, "position": {"line": line, "character": len("[connections.") + 2}}
            for key, method, params in (
                ("definition", "textDocument/definition", {**doc, "position": {"line": added, "character": 12}}),
                ("references", "textDocument/references", {**at, "context": {"includeDeclaration": True}}),
                ("rename", "textDocument/prepareRename", at),
                ("rename", "textDocument/rename", {**at, "newName": "renamed"}),
            ):
                t = time.perf_counter()
                c.request(method, params)
                out[key].append((time.perf_counter() - t) * 1000)
            version += 1
            edit = _range(line + 1, 0, line + 1, 0) if k % 2 == 0 else _range(0, 0, 0, 0)
            c.change(uri, version, [{"range": edit, "text": "x" if k % 2 == 0 else "\n"}])
            c.diagnostics(uri, version)
            added += k % 2
            t = time.perf_counter()
            c.request("textDocument/documentLink", doc)
            out["links"].append((time.perf_counter() - t) * 1000)
    finally:
        c.close()
    return out


# -- 5. snowauth check vs taplo ---------------------------------------------------------------------


GNU_TIME = Path("/usr/bin/time")


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall ms, peak RSS MB, exit code) of one process. The peak comes from GNU time when
    there is one: a child forked from this (large) process would count its pages too."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = [str(GNU_TIME), "-f", "%M", "-o", rss.name, *cmd] if GNU_TIME.exists() else cmd
        t = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = (time.perf_counter() - t) * 1000
        proc.returncode = os.waitstatus_to_exitcode(status)
        kib = int(rss.read().split()[-1]) if GNU_TIME.exists() else usage.ru_maxrss
    return wall, kib / 1024, proc.returncode


def check_vs_taplo(path: Path, runs: int) -> dict[str, Any]:
    schema = GENERATED / "schema.json"
    schema.write_text(
        subprocess.run([PY, "-m", "snowauth", "schema"], capture_output=True, check=True, text=True).stdout
    )
    env = server_env()
    ours_cmd = [str(BIN / "snowauth"), "check", str(path)]
    taplo_cmd = [str(BIN / "taplo"), "lint", "--no-auto-config", "--schema", schema.as_uri(), str(path)]
    run_measured(ours_cmd, env), run_measured(taplo_cmd, env)  # warm the caches
    res: dict[str, list[float]] = {"ours_ms": [], "ours_mb": [], "taplo_ms": [], "taplo_mb": []}
    codes = set()
    for _ in range(runs):
        for name, cmd in (("ours", ours_cmd), ("taplo", taplo_cmd)):
            wall, rss, code = run_measured(cmd, env)
            res[f"{name}_ms"].append(wall)
            res[f"{name}_mb"].append(rss)
            codes.add((name, code))
    return {**res, "exit_codes": sorted(codes)}


def big_string(path: Path, runs: int) -> dict[str, Any]:
    """`snowauth check` of ``path`` (wall ms, peak RSS MB of the process), and a language
    server opening it (didOpen → first diagnostics, peak RSS of the server)."""
    env = server_env()
    cmd = [str(BIN / "snowauth"), "check", str(path)]
    run_measured(cmd, env)  # warm the caches
    res: dict[str, list[float]] = {"check_ms": [], "check_mb": [], "lsp_ms": [], "lsp_mb": []}
    text = path.read_text(encoding="utf-8")
    for _ in range(runs):
        wall, rss, _code = run_measured(cmd, env)
        res["check_ms"].append(wall)
        res["check_mb"].append(rss)
        c = Client(OURS, env=env, cwd=HERE)
        try:
            c.initialize(path.parent)
            t = time.perf_counter()
            c.open(path.as_uri(), text)
            c.diagnostics(path.as_uri(), 1)
            res["lsp_ms"].append((time.perf_counter() - t) * 1000)
            res["lsp_mb"].append(c.peak_rss_mb())
        finally:
            c.close()
    return res


# -- 6. token round trip ----------------------------------------------------------------------------


def fetch_overhead(runs: int) -> dict[str, Any]:
    import httpx

    emu = subprocess.Popen(
        [PY, "-m", "snowauth", "emulator", "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert emu.stdout is not None
        line = emu.stdout.readline()
        url = line.strip().rsplit(" ", 1)[-1]
        folder = Path(tempfile.mkdtemp(prefix="fetch-", dir=GENERATED))
        path = folder / "fetch.snowauth.toml"
        text = (
            "[connections.bench]\n"
            f'instance = "{url}"\n'
            'grant_type = "password"\n'
            f'client_id = "{EMULATOR_CLIENT_ID}"\n'
            'client_secret = "${env:BENCH_CLIENT_SECRET}"\n'
            f'username = "{EMULATOR_USER}"\n'
            'password = "${env:BENCH_PASSWORD}"\n'
            'scope = "useraccount"\n'
        )
        path.write_text(text, encoding="utf-8")
        env = {**server_env(), "BENCH_CLIENT_SECRET": EMULATOR_SECRET, "BENCH_PASSWORD": EMULATOR_PASSWORD}
        form = {
            "grant_type": "password",
            "client_id": EMULATOR_CLIENT_ID,
            "client_secret": EMULATOR_SECRET,
            "username": EMULATOR_USER,
            "password": EMULATOR_PASSWORD,
            "scope": "useraccount",
        }
        c = Client(OURS, env=env, cwd=HERE)
        lsp_times: list[float] = []
        bare_times: list[float] = []
        with httpx.Client() as http:
            try:
                c.initialize(folder)
                c.open(path.as_uri(), text)
                c.diagnostics(path.as_uri(), 1)
                args = [{"uri": path.as_uri(), "connection": "bench"}]

                def lsp() -> None:
                    c.request("workspace/executeCommand", {"command": "snowauth.fetchToken", "arguments": args})

                def bare() -> None:
                    r = http.post(url + "/oauth_token.do", data=form)
                    r.raise_for_status()
                    r.json()

                lsp(), bare()  # first use: imports, connections
                for _ in range(runs):
                    for fn, times in ((lsp, lsp_times), (bare, bare_times)):
                        time.sleep(0.05)  # let background work (git state after a store) settle
                        t = time.perf_counter()
                        fn()
                        times.append((time.perf_counter() - t) * 1000)
            finally:
                c.close()
        return {"lsp": lsp_times, "bare": bare_times, "server_requests": sorted(set(c.server_requests))}
    finally:
        emu.terminate()
        emu.wait()


# -- the table ----------------------------------------------------------------------------------------


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} CPUs ({cpu}), "
        f"Python {platform.python_version()}, load average before the run {load}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (not for reporting)")
    ap.add_argument("--json", type=Path, help="also write the raw samples here")
    parts = ("cold", "sessions", "editor", "navigation", "workspace", "check", "fmt", "strings", "fetch")
    ap.add_argument("--only", choices=parts, action="append")
    args = ap.parse_args(argv)
    only = set(args.only or parts)
    quick = args.quick
    started = time.perf_counter()
    env_line = machine()
    paths = write_inputs(GENERATED)
    # as pip installs it: byte-compiled (this machine sets PYTHONDONTWRITEBYTECODE, and an
    # editable install would otherwise compile every module at every start)
    import snowauth

    subprocess.run(
        [PY, "-m", "compileall", "-q", str(Path(snowauth.__file__).parent)], check=True, stdout=subprocess.DEVNULL
    )
    raw: dict[str, Any] = {"machine": env_line}
    rows: list[tuple[str, str, str, str, str, str]] = []  # metric, ours, floor/peer, ratio, target, met
    info: list[str] = []

    def say(msg: str) -> None:
        print(f"[{time.perf_counter() - started:5.0f} s] {msg}", file=sys.stderr, flush=True)

    if "cold" in only:
        say("cold start")
        cold_start(OURS, paths[50]), cold_start(FLOOR, paths[50])  # warm the caches
        ours, floor = [], []
        for _ in range(4 if quick else 15):
            ours.append(cold_start(OURS, paths[50]))
            floor.append(cold_start(FLOOR, paths[50]))
        raw["cold"] = {"ours": ours, "floor": floor}
        oi, od = median([x[0] for x in ours]), median([x[1] for x in ours])
        fi, fd = median([x[0] for x in floor]), median([x[1] for x in floor])
        rows.append(("Cold start: spawn → initialize answered", ms(oi), ms(fi), f"{oi / fi:.2f}×", "", ""))
        rows.append(
            (
                "Cold start: spawn → first diagnostics (50 lines)",
                ms(od),
                ms(fd),
                f"{od / fd:.2f}×",
                "≤ 1.15×",
                met(od / fd <= 1.15),
            )
        )

    if "sessions" in only:
        edits, requests, rounds = (60, 30, 1) if quick else (240, 120, 3)
        for n in SIZES:
            say(f"sessions, {n} lines ({rounds} rounds)")
            ours_r, floor_r = [], []
            for _ in range(rounds):  # interleaved: the machine's noise falls on both
                ours_r.append(session(OURS, paths[n], edits, requests, outline=True))
                floor_r.append(session(FLOOR, paths[n], edits, requests))
            raw[f"session_{n}"] = {"ours": ours_r, "floor": floor_r}
            typing_target = {50: 3.0, 10_000: 15.0}.get(n)
            for key, label in (
                ("typing", "Typing: didChange → diagnostics"),
                ("completion", "Completion"),
                ("hover", "Hover"),
            ):
                o, f = pooled(ours_r, key), pooled(floor_r, key)
                spread = ", ".join(f"{median(r[key]):.1f}" for r in ours_r)
                tgt, ok = "", None
                if key == "typing" and typing_target is not None:
                    tgt = f"p50 ≤ {typing_target:.0f} ms; p95 ≤ 2× p50"
                    ok = median(o) <= typing_target and p95(o) <= 2 * median(o)
                elif key != "typing" and n == 10_000:
                    tgt, ok = "p50 ≤ 5 ms", median(o) <= 5
                rows.append(
                    (
                        f"{label}, {n:,} lines: p50 / p95 (rounds' p50: {spread})",
                        f"{ms(median(o))} / {ms(p95(o))}",
                        f"{ms(median(f))} / {ms(p95(f))}",
                        f"p95/p50 {p95(o) / median(o):.1f}",
                        tgt,
                        met(ok),
                    )
                )
            peak = max(r["rss_open_mb"] for r in ours_r)
            floor_open = max(r["rss_open_mb"] for r in floor_r)
            rows.append(
                (
                    f"Memory, {n:,} lines: peak RSS after open / after the session",
                    f"{peak:.0f} MB / {max(r['rss_peak_mb'] for r in ours_r):.0f} MB",
                    f"{floor_open:.0f} MB / {max(r['rss_peak_mb'] for r in floor_r):.0f} MB",
                    "",
                    "≤ 80 MB" if n == 10_000 else "",
                    met(peak <= 80 if n == 10_000 else None),
                )
            )
            info.append(
                f"{n:,} lines: didOpen → first diagnostics {ms(pooled_median(ours_r, 'open_ms'))} "
                f"(floor {ms(pooled_median(floor_r, 'open_ms'))}); document symbols "
                f"{ms(pooled_median(ours_r, 'symbols'))}, code lenses {ms(pooled_median(ours_r, 'lenses'))} "
                "(each with the client's parse of the answer)"
            )
        say("session with pulled diagnostics, 10,000 lines")
        pulled = [session(OURS, paths[10_000], edits, 0, pull=True) for _ in range(1 if quick else 2)]
        raw["session_pull_10000"] = pulled
        o = pooled(pulled, "typing")
        rows.append(
            (
                "Typing, 10,000 lines, pulled: didChange + textDocument/diagnostic → answer: p50 / p95",
                f"{ms(median(o))} / {ms(p95(o))}",
                "",
                f"p95/p50 {p95(o) / median(o):.1f}",
                "p50 ≤ 15 ms; p95 ≤ 2× p50",
                met(median(o) <= 15 and p95(o) <= 2 * median(o)),
            )
        )

    if "editor" in only:
        editor_rows(OURS, server_env(), HERE, paths[10_000], quick, raw, rows, info, say)

    if "workspace" in only:
        say("workspace diagnostics, 200 files × 50 lines")
        folder = workspace_folder(GENERATED / "workspace")
        runs = [workspace_diagnostics(OURS, server_env(), HERE, folder) for _ in range(1 if quick else 3)]
        raw["workspace"] = runs
        label = "Workspace diagnostics, 200 files × 50 lines: workspace/diagnostic → answer (median)"
        if not runs[0]["offered"]:
            rows.append((label, "n/a (not offered)", "", "", "≤ 1 s", ""))
        else:
            wm = median([r["ms"] for r in runs])
            rows.append((label, ms(wm), "", "", "≤ 1 s", met(wm <= 1000)))
            info.append(f"workspace diagnostics: documents reported {[r['documents'] for r in runs]}")

    if "navigation" in only:
        say("navigation, 10,000 lines")
        r = navigation(OURS, paths[10_000], 10 if quick else 40)
        raw["navigation_10000"] = r
        for key, label in (
            ("definition", "Go to definition"),
            ("references", "References"),
            ("rename", "prepareRename / rename"),
        ):
            o = r[key]
            rows.append(
                (
                    f"{label}, 10,000 lines: p50 / p95",
                    f"{ms(median(o))} / {ms(p95(o))}",
                    "",
                    "",
                    "p50 ≤ 5 ms",
                    met(median(o) <= 5),
                )
            )
        info.append(
            f"10,000 lines: document links after an edit {ms(median(r['links']))} (p95 {ms(p95(r['links']))}; "
            "about 4,000 links, ~600 KB, the client's parse of them included)"
        )

    if "check" in only:
        say("snowauth check vs taplo")
        r = check_vs_taplo(paths[10_000], 3 if quick else 15)
        raw["check"] = r
        om, tm = median(r["ours_ms"]), median(r["taplo_ms"])
        rows.append(
            (
                "`snowauth check` vs `taplo lint --schema`, 10,000 lines: wall (median)",
                ms(om),
                ms(tm),
                f"{om / tm:.2f}×",
                "≤ 0.8×",
                met(om <= 0.8 * tm),
            )
        )
        omb, tmb = median(r["ours_mb"]), median(r["taplo_mb"])
        rows.append(("… peak RSS", f"{omb:.0f} MB", f"{tmb:.0f} MB", f"{omb / tmb:.2f}×", "", ""))
        info.append(
            f"check runs (ms): snowauth {', '.join(f'{x:.0f}' for x in r['ours_ms'])}; "
            f"taplo {', '.join(f'{x:.0f}' for x in r['taplo_ms'])}; exit codes {r['exit_codes']}"
        )

    if "fmt" in only:
        say("snowauth fmt vs taplo fmt")
        r = fmt_vs_taplo(BIN / "snowauth", BIN / "taplo", paths[10_000], 3 if quick else 15, server_env(), run_measured)
        raw["fmt"] = r
        label = "`snowauth fmt` vs `taplo fmt`, 10,000 lines: wall (median)"
        if not r["offered"]:
            rows.append((label, "n/a (no `snowauth fmt`)", "", "", "", ""))
        else:
            om, tm = median(r["ours_ms"]), median(r["taplo_ms"])
            rows.append((label, ms(om), ms(tm), f"{om / tm:.2f}×", "", ""))
            info.append(f"fmt exit codes {r['codes']}")

    if "strings" in only:
        for name, path in big_string_files(GENERATED).items():
            say(f"one 10 MB string ({name}): check and the language server")
            r = big_string(path, 2 if quick else 5)
            raw[f"big_string_{name}"] = r
            for what, key in (("`snowauth check`", "check"), ("language server: didOpen → diagnostics", "lsp")):
                wall, rss = median(r[f"{key}_ms"]), max(r[f"{key}_mb"])
                rows.append(
                    (
                        f"One 10 MB string ({name}), {what}: wall (median) / peak RSS (max)",
                        f"{ms(wall)} / {rss:.0f} MB",
                        "",
                        "",
                        "≤ 1 s / ≤ 200 MB",
                        met(wall <= 1000 and rss <= 200),
                    )
                )

    if "fetch" in only:
        say("token round trip")
        r = fetch_overhead(8 if quick else 40)
        raw["fetch"] = r
        lm, bm = median(r["lsp"]), median(r["bare"])
        rows.append(
            (
                "Fetch token via LSP vs a bare httpx POST (emulator): median",
                ms(lm),
                ms(bm),
                f"+{lm - bm:.1f} ms",
                "≤ +5 ms",
                met(lm - bm <= 5),
            )
        )
        info.append(
            f"fetch: p95 {ms(p95(r['lsp']))} via LSP, {ms(p95(r['bare']))} bare; "
            f"requests the server made of the client: {', '.join(r['server_requests'])}"
        )

    say("done")
    print("| Measure | snowauth | floor / peer | ratio | target | met |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    for line in info:
        print(f"- {line}")
    print()
    print(f"Machine: {env_line}. Wall time of the run: {time.perf_counter() - started:.0f} s.")
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
