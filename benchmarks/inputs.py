"""The benchmark's inputs: connection files of exactly N lines holding N / 5 connections.

The forms users write: `[connections.<name>]` tables for client-credentials,
authorization-code, refresh-token and password grants (the last with a stored token as an
inline table), and one-line inline connections under `[connections]` at the end. Secrets
are `${env:…}` / `${prompt}` references, which resolve in the server's environment
(``ENV``). About one connection in forty has a real problem, so that every edit publishes
a realistic, non-empty set of diagnostics.
"""

from __future__ import annotations

from pathlib import Path

HEX32 = "0123456789abcdef0123456789abcdef"
ENV = {"SNOW_CLIENT_SECRET": "bench-secret"}
SIZES = (50, 1000, 10_000)


def _table(i: int) -> list[str]:
    name = f"c{i:05d}"
    problem = i % 160 in (5, 58, 99, 140)  # one connection in forty, each shape in turn
    kind = i % 4
    head = [f"[connections.{name}]"]
    if kind == 0:
        return [
            *head,
            f'instance = "http://dev{i:05d}.example.com"' if problem else f'instance = "dev{i:05d}"',
            'grant_type = "client_credentials"',
            f'client_id = "{HEX32}"',
            'client_secret = "${env:SNOW_CLIENT_SECRET}"',
        ]
    if kind == 1:
        return [
            *head,
            f'instance = "https://dev{i:05d}.service-now.com"',
            'grant_type = "authorization_code"',
            'client_id = "my-client"' if problem else f'client_id = "{HEX32}"',
            'redirect_uri = "http://127.0.0.1:53682/callback"',
        ]
    if kind == 2:
        expires = "2020-01-01T00:00:00Z" if problem else "2030-01-01T00:00:00Z"
        return [
            *head,
            f'instance = "dev{i:05d}"',
            'grant_type = "password"',
            f'client_id = "{HEX32}"',
            'client_secret = "${env:SNOW_CLIENT_SECRET}"',
            'username = "integration.user"',
            'password = "${prompt}"',
            f'token = {{ access_token = "AT-{name}", token_type = "Bearer", expires_at = {expires} }}',
        ]
    return [
        *head,
        f'instance = "dev{i:05d}"',
        'grant_type = "refresh_token"',
        f'client_id = "{HEX32}"',
        'client_secret = "${env:SNOW_CLIENT_SECRET}"',
        'refresh_token = "literal-refresh-token"' if problem else 'refresh_token = "${env:SNOW_CLIENT_SECRET}"',
    ]


def _inline(i: int) -> str:
    return (
        f'c{i:05d} = {{ instance = "dev{i:05d}", grant_type = "client_credentials", '
        f'client_id = "{HEX32}", client_secret = "${{env:SNOW_CLIENT_SECRET}}" }}'
    )


def connection_file(lines: int) -> str:
    """Exactly ``lines`` lines (a multiple of 5) and ``lines // 5`` connections."""
    assert lines % 5 == 0 and lines >= 50
    want = lines // 5
    out = ['default = "c00000"', ""]
    i = 0
    while True:
        block = _table(i)
        # what is left after this block must still fit: `[connections]` + one line per connection
        if len(out) + len(block) + 1 + (want - i - 1) > lines:
            break
        out.extend(block)
        i += 1
    pad = lines - len(out) - 1 - (want - i)
    out.extend("# -- inline connections" if k == 0 else "#" for k in range(pad))
    out.append("[connections]")
    out.extend(_inline(k) for k in range(i, want))
    assert len(out) == lines, (len(out), lines)
    return "\n".join(out) + "\n"


def write_inputs(folder: Path, sizes: tuple[int, ...] = SIZES) -> dict[int, Path]:
    """The input files, each in a folder of its own under ``folder`` (written when missing
    or stale): the server walks the folder a session opens as its workspace, and the
    files share their connection names (which, in one workspace, is a cross-file finding)."""
    paths = {}
    for n in sizes:
        (folder / f"lines-{n}").mkdir(parents=True, exist_ok=True)
        p = folder / f"lines-{n}" / f"bench-{n}.snowauth.toml"
        text = connection_file(n)
        if not p.exists() or p.read_text(encoding="utf-8") != text:
            p.write_text(text, encoding="utf-8")
        paths[n] = p
    return paths


# -- one huge string: the scanner's worst case for time and memory ----------------------------

BIG_STRING_BYTES = 10_000_000


def big_string_files(folder: Path) -> dict[str, Path]:
    """Two connection files of ~10 MB, almost all of it one string value: a basic string
    full of escapes, and a multi-line string (written when missing or stale)."""
    unit = 'ab\\n\\t\\"\\\\\\u00e9x '  # six escapes in 19 characters
    escapes = (unit * (BIG_STRING_BYTES // len(unit) + 1))[:BIG_STRING_BYTES].rstrip("\\")
    line = "a line of a multi-line string with \"quotes\", 'apostrophes' and a \\\\ backslash\n"
    multi = (line * (BIG_STRING_BYTES // len(line) + 1))[:BIG_STRING_BYTES]
    head = '[connections.dev]\ninstance = "dev12345"\ngrant_type = "client_credentials"\n'
    texts = {
        "escapes": f'{head}scope = "{escapes}"\n',
        "multi-line": f'{head}scope = """\n{multi}"""\n',
    }
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in texts.items():
        p = folder / f"big-{name}.snowauth.toml"
        if not p.exists() or p.read_text(encoding="utf-8") != text:
            p.write_text(text, encoding="utf-8")
        paths[name] = p
    return paths
