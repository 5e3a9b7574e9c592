"""What an editor asks after every edit, the workspace's diagnostics, and formatting.

``editor_session``: one server, the 10,000-line file open; after each one-character edit
(and its diagnostics) the requests VS Code and Neovim send when a document changes —
document symbols, code lenses, inlay hints of a visible range, folding ranges, semantic
tokens (full the first time, then delta from the previous result) — each timed on its
own, then formatting a few times, and the server's peak RSS over the whole session.

A method the server does not offer (its ``initialize`` capabilities) is reported as not
offered, so the runner works before a feature exists and measures it once it does.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from inputs import connection_file
from lspclient import Client
from stats import median, met, ms, p95, pooled

VISIBLE_LINES = 60  # the inlay hints' range: what a window shows

#: (key, LSP method, the capability that offers it)
PER_EDIT = (
    ("symbols", "textDocument/documentSymbol", "documentSymbolProvider"),
    ("lenses", "textDocument/codeLens", "codeLensProvider"),
    ("inlay", "textDocument/inlayHint", "inlayHintProvider"),
    ("folding", "textDocument/foldingRange", "foldingRangeProvider"),
    ("semantic", "textDocument/semanticTokens/full/delta", "semanticTokensProvider"),
)

EDITOR_CAPABILITIES: dict[str, Any] = {
    "inlayHint": {"dynamicRegistration": False},
    "foldingRange": {"dynamicRegistration": False, "lineFoldingOnly": True},
    "semanticTokens": {
        "dynamicRegistration": False,
        "requests": {"full": {"delta": True}, "range": True},
        "tokenTypes": [
            "namespace",
            "type",
            "class",
            "enum",
            "interface",
            "struct",
            "typeParameter",
            "parameter",
            "variable",
            "property",
            "enumMember",
            "event",
            "function",
            "method",
            "macro",
            "keyword",
            "modifier",
            "comment",
            "string",
            "number",
            "regexp",
            "operator",
            "decorator",
        ],
        "tokenModifiers": [
            "declaration",
            "definition",
            "readonly",
            "static",
            "deprecated",
            "abstract",
            "async",
            "modification",
            "documentation",
            "defaultLibrary",
        ],
        "formats": ["relative"],
        "overlappingTokenSupport": False,
        "multilineTokenSupport": False,
    },
    "formatting": {"dynamicRegistration": False},
    "rangeFormatting": {"dynamicRegistration": False},
}


def offered(capabilities: Mapping[str, Any], provider: str) -> bool:
    value = capabilities.get(provider)
    if provider == "semanticTokensProvider":  # the whole document (with or without deltas)
        return isinstance(value, dict) and bool(value.get("full"))
    return value is not None and value is not False  # `true`, or options (an empty object too)


def semantic_delta(capabilities: Mapping[str, Any]) -> bool:
    """Whether the server answers semanticTokens/full/delta (else: full each time)."""
    value = capabilities.get("semanticTokensProvider")
    full = value.get("full") if isinstance(value, dict) else None
    return isinstance(full, dict) and bool(full.get("delta"))


def editor_client(cmd: list[str], env: Mapping[str, str], cwd: Path, root: Path, *, pull: bool = False) -> Client:
    c = Client(cmd, env=env, cwd=cwd, pull=pull)
    c.extra_capabilities = {"textDocument": EDITOR_CAPABILITIES}
    c.initialize(root)
    return c


def _range(l1: int, c1: int, l2: int, c2: int) -> dict[str, Any]:
    return {"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}}


def editor_session(
    cmd: list[str], env: Mapping[str, str], cwd: Path, path: Path, edits: int, formats: int
) -> dict[str, Any]:
    """Open ``path``, then after each one-character edit (``x`` inserted at a random
    place, removed by the next edit) every request of ``PER_EDIT`` the server offers;
    ``formats`` formatting requests at the end. Times in ms, RSS in MB."""
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    uri = path.as_uri()
    doc = {"textDocument": {"uri": uri}}
    out: dict[str, Any] = {key: [] for key, _, _ in PER_EDIT}
    out.update({f"{key}_parse": [] for key, _, _ in PER_EDIT})
    out["formatting"] = []
    c = editor_client(cmd, env, cwd, path.parent)
    try:
        caps = c.init_result.get("capabilities", {}) if isinstance(c.init_result, dict) else {}
        out["offered"] = [key for key, _, provider in PER_EDIT if offered(caps, provider)]
        delta = semantic_delta(caps)
        out["semantic_delta"] = delta
        if offered(caps, "documentFormattingProvider"):
            out["offered"].append("formatting")
        start_mb = c.peak_rss_mb()
        t0 = time.perf_counter()
        c.open(uri, text)
        c.diagnostics(uri, 1)
        out["open_ms"] = (time.perf_counter() - t0) * 1000
        out["rss_open_mb"] = c.peak_rss_mb()
        steps: dict[str, float] = {"start": start_mb, "open": out["rss_open_mb"]}  # VmHWM after each first
        out["rss_steps"] = steps
        rng = random.Random(len(lines) + 7)
        version, result_id = 1, None
        pending: tuple[int, int] | None = None  # the `x` to remove
        for _ in range(edits):
            if pending is None:
                line = rng.randrange(len(lines) - 1)
                col = rng.randint(0, len(lines[line]))
                change = {"range": _range(line, col, line, col), "text": "x"}
                pending = (line, col)
            else:
                line, col = pending
                change = {"range": _range(line, col, line, col + 1), "text": ""}
                pending = None
            version += 1
            c.change(uri, version, [change])
            c.diagnostics(uri, version)
            top = max(0, min(line - VISIBLE_LINES // 2, len(lines) - 1 - VISIBLE_LINES))
            for key, method, _provider in PER_EDIT:
                if key not in out["offered"]:
                    continue
                params: dict[str, Any] = dict(doc)
                if key == "inlay":
                    params["range"] = _range(top, 0, top + VISIBLE_LINES, 0)
                if key == "semantic":
                    if result_id is None or not delta:
                        method = "textDocument/semanticTokens/full"
                    else:
                        params["previousResultId"] = result_id
                result, answered, parsed = c.timed_request(method, params)
                out[key].append(answered)
                out[f"{key}_parse"].append(parsed)
                out[f"{key}_bytes"] = c.received_bytes
                steps.setdefault(key, c.peak_rss_mb())
                if key == "semantic" and isinstance(result, dict):
                    result_id = result.get("resultId")
            out.setdefault("rss_edits", []).append(round(c.rss_mb(), 1))  # resident after each edit's requests
        if "formatting" in out["offered"]:
            options = {"tabSize": 2, "insertSpaces": True}
            steps["(resident before formatting)"] = c.rss_mb()
            for k in range(formats):
                _result, answered, _parsed = c.timed_request("textDocument/formatting", {**doc, "options": options})
                out["formatting"].append(answered)
                steps[f"formatting {k + 1}"] = c.peak_rss_mb()
        out["rss_peak_mb"] = c.peak_rss_mb()
    finally:
        c.close()
    return out


EDITOR_LABELS = {
    "symbols": "document symbols",
    "lenses": "code lenses",
    "inlay": f"inlay hints ({VISIBLE_LINES} visible lines)",
    "folding": "folding ranges",
    "semantic": "semantic tokens (full, then delta when offered)",
}


def editor_rows(
    cmd: list[str],
    env: Mapping[str, str],
    cwd: Path,
    path: Path,
    quick: bool,
    raw: dict[str, Any],
    rows: list[tuple[str, str, str, str, str, str]],
    info: list[str],
    say: Any,
) -> None:
    """The editor's requests after every edit at 10,000 lines, didOpen → first
    diagnostics, formatting and the session's peak RSS: one row each, with its target."""
    edits, formats, rounds = (10, 2, 1) if quick else (60, 5, 2)
    say(f"editor session, 10,000 lines ({rounds} rounds of {edits} edits)")
    runs = [editor_session(cmd, env, cwd, path, edits, formats) for _ in range(rounds)]
    raw["editor_10000"] = runs
    offered = runs[0]["offered"]
    parses: list[str] = []
    for key, _method, _provider in PER_EDIT:
        label = f"After each edit, 10,000 lines: {EDITOR_LABELS[key]}: p50 / p95"
        if key not in offered:
            rows.append((label, "n/a (not offered)", "", "", "p50 ≤ 10 ms", ""))
            continue
        o = pooled(runs, key)
        rows.append(
            (label, f"{ms(median(o))} / {ms(p95(o))}", "", f"p95/p50 {p95(o) / median(o):.1f}", "p50 ≤ 10 ms",
             met(median(o) <= 10))
        )  # fmt: skip
        parse = pooled(runs, f"{key}_parse")
        size = max(r.get(f"{key}_bytes", 0) for r in runs) / 1024
        parses.append(f"{EDITOR_LABELS[key]} {size:,.0f} KB, parsed in {ms(median(parse))}")
    if parses:
        info.append(
            "after each edit: the time is to the answer's last byte; the client's JSON parsing comes after "
            "(Python's json here; an editor's is faster): " + "; ".join(parses)
        )
    label = "Formatting (textDocument/formatting), 10,000 lines: p50 / p95"
    if "formatting" not in offered:
        rows.append((label, "n/a (not offered)", "", "", "p50 ≤ 100 ms", ""))
    else:
        o = pooled(runs, "formatting")
        rows.append((label, f"{ms(median(o))} / {ms(p95(o))}", "", "", "p50 ≤ 100 ms", met(median(o) <= 100)))
    opens = [r["open_ms"] for r in [*runs, *raw.get("session_10000", {}).get("ours", [])]]
    om = median(opens)
    rows.append(
        (
            f"didOpen → first diagnostics, 10,000 lines (median of {len(opens)})",
            ms(om),
            "",
            "",
            "≤ 50 ms",
            met(om <= 50),
        )
    )
    peak = max(r["rss_peak_mb"] for r in runs)
    rows.append(
        (
            "Memory, 10,000 lines: peak RSS over the editor session (every request above)",
            f"{peak:.0f} MB",
            "",
            "",
            "≤ 70 MB",
            met(peak <= 70),
        )
    )
    rss_open = max(r["rss_open_mb"] for r in runs)
    info.append(f"editor session: offered {', '.join(offered)}; peak RSS after open {rss_open:.0f} MB")
    steps = runs[0].get("rss_steps", {})
    info.append("resident after each edit's requests (MB): " + ", ".join(map(str, runs[0].get("rss_edits", []))))
    info.append("peak RSS (VmHWM) after each first: " + ", ".join(f"{k} {v:.1f} MB" for k, v in steps.items()))


# -- workspace diagnostics ------------------------------------------------------------------


def workspace_folder(folder: Path, files: int = 200, lines: int = 50) -> Path:
    """``files`` connection files of ``lines`` lines in ``folder`` (written when missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    text = connection_file(lines)
    for k in range(files):
        p = folder / f"ws-{k:03d}.snowauth.toml"
        if not p.exists() or p.read_text(encoding="utf-8") != text:
            p.write_text(text, encoding="utf-8")
    return folder


def workspace_diagnostics(cmd: list[str], env: Mapping[str, str], cwd: Path, folder: Path) -> dict[str, Any]:
    """A fresh server with ``folder`` as its root: `workspace/diagnostic` → its answer (ms),
    and how many documents the answer reports; None when the server does not offer it."""
    c = editor_client(cmd, env, cwd, folder, pull=True)
    try:
        caps = c.init_result.get("capabilities", {}) if isinstance(c.init_result, dict) else {}
        provider = caps.get("diagnosticProvider")
        if not (isinstance(provider, dict) and provider.get("workspaceDiagnostics")):
            return {"offered": False}
        t = time.perf_counter()
        result = c.request("workspace/diagnostic", {"previousResultIds": []})
        wall = (time.perf_counter() - t) * 1000
        items = result.get("items", []) if isinstance(result, dict) else []
        return {"offered": True, "ms": wall, "documents": len(items)}
    finally:
        c.close()


# -- snowauth fmt vs taplo fmt ------------------------------------------------------------------


def has_fmt(snowauth: Path, env: Mapping[str, str]) -> bool:
    """Whether this snowauth has a `fmt` command."""
    proc = subprocess.run([str(snowauth), "fmt", "--help"], capture_output=True, text=True, env=dict(env), check=False)
    return proc.returncode == 0


def fmt_vs_taplo(
    snowauth: Path,
    taplo: Path,
    path: Path,
    runs: int,
    env: Mapping[str, str],
    measure: Callable[[list[str], dict[str, str]], tuple[float, float, int]],
) -> dict[str, Any]:
    """Wall time of `snowauth fmt` and `taplo fmt` rewriting a fresh copy of ``path``,
    interleaved; ``measure`` runs one process (wall ms, peak RSS MB, exit code)."""
    if not has_fmt(snowauth, env):
        return {"offered": False}
    work = Path(tempfile.mkdtemp(prefix="fmt-"))
    try:
        ours_file, taplo_file = work / "ours.snowauth.toml", work / "taplo.toml"
        ours_cmd = [str(snowauth), "fmt", str(ours_file)]
        taplo_cmd = [str(taplo), "fmt", "--no-auto-config", str(taplo_file)]
        res: dict[str, Any] = {"offered": True, "ours_ms": [], "taplo_ms": [], "codes": set()}
        for k in range(runs + 1):  # the first of each warms the caches
            for name, cmd, target in (("ours", ours_cmd, ours_file), ("taplo", taplo_cmd, taplo_file)):
                shutil.copyfile(path, target)
                wall, _rss, code = measure(cmd, dict(env))
                res["codes"].add((name, code))
                if k:
                    res[f"{name}_ms"].append(wall)
        res["codes"] = sorted(res["codes"])
        return res
    finally:
        shutil.rmtree(work, ignore_errors=True)
