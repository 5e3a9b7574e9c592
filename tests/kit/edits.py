"""Random edits of connection files for the hypothesis tests that hold a kept or
incremental answer equal to a fresh one: the files to start from, the pieces typed, the
strategies of edits, and an edit applied to an open ``Document`` as a client sends it."""

from __future__ import annotations

from hypothesis import strategies as st
from lsprotocol import types as t

from snowauth.lsp import convert
from snowauth.lsp.documents import Document
from snowauth.positions import LineIndex
from snowauth.secrets import Environment
from tests.kit.analysis import FORMS, HEX32, grant_keys, password_keys, render

ENV = Environment({"SNOW_SECRET": "s3cret", "SNOW_PW": "pw"}, None)

TOKEN = [("access_token", '"AT"'), ("refresh_token", '"RT"'), ("expires_at", "2026-11-28T09:00:00Z")]


def _bases() -> list[str]:
    out = []
    for form in FORMS:
        out.append(render(form, password_keys(), TOKEN, name="dev"))
        out.append(
            'default = "dev"\n'
            + render(form, password_keys(), name="dev")
            + render("table", grant_keys("client_credentials"), name="cc")
        )
    out.append(
        "# a file with a bit of everything\n"
        'default = "prod"\n\n'
        "[connections.dev]\n"
        'instance = "dev1"\ngrant_type = "password"\n'
        f'client_id = "{HEX32}"\nclient_secret = "lit"\nusername = "u"\npassword = "${{prompt}}"\n'
        '\n[connections.dev.token]\naccess_token = "a"\nexpires_at = 2026-11-28T09:59:00Z\n'
        '\n[connections]\nqa = { instance = "qa1", grant_type = "jwt_bearer", client_id = "x" }\n'
        "\n[[connections.arr]]\nx = 1\n"
        '\n[other]\nkey = """\nmulti\nline"""\nlist = [1,\n 2, # c\n 3]\n'
        "\n[connections.prod]\r\n"
        'instance = "http://example.com"\r\ngrant_type = "authorization_code"\r\n'
        f'client_id = "{HEX32}"\r\nredirect_uri = "http://127.0.0.1:1/cb"\r\n'
    )
    out.append("".join(render("table", password_keys(), name=f"c{i}") for i in range(40)))
    # as the benchmark's file is written: stored tokens on one line, inline connections
    out.append(
        "".join(
            render("table", password_keys(), name=f"t{i}")
            + f'token = {{ access_token = "AT-{i}", token_type = "Bearer", expires_at = 2026-11-28T09:{i:02d}:00Z }}\n'
            for i in range(20)
        )
        + "[connections]\n"
        + "".join(
            f'i{i} = {{ instance = "dev{i}", grant_type = "client_credentials", client_id = "x{i}" }}\n'
            for i in range(20)
        )
    )
    return out


BASES = _bases()
PIECES = [
    "x", "a", "1", " ", "\n", "\r\n", "\r", "=", ".", ",", "#", '"', "'", "[", "]", "{", "}", "\\",
    '"""', "'''", "\x01", "\ufeff", "true", "2026-01-01T00:00:00Z", " = ", "[connections.", "[connections]\n",
    "connections.", "dev", "token", "instance", "grant_type", 'default = "dev"\n', "[[connections.x]]\n",
    '"${env:SNOW_SECRET}"', "\n[connections.new]\n", "dev = { instance = ", "[connections.dev.token]\n",
    ', expires_at = 2026-13-01T00:00:00Z', 'token = { access_token = "a" }\n', "}",
]  # fmt: skip


def edit_steps(pieces: list[str]) -> st.SearchStrategy[list[tuple[float, int, str, bool]]]:
    """1 to 12 edits: where (a fraction of the text), how many characters are replaced,
    what is typed (up to three of ``pieces``), and whether the answer is asked after it."""
    return st.lists(
        st.tuples(
            st.floats(0, 1),
            st.sampled_from([0, 0, 0, 1, 2, 5, 40]),
            st.lists(st.sampled_from(pieces), max_size=3).map("".join),
            st.booleans(),
        ),
        min_size=1,
        max_size=12,
    )


edits = edit_steps(PIECES)


def span(text: str, where: float, length: int) -> tuple[int, int]:
    start = min(len(text), int(where * (len(text) + 1)))
    return start, min(len(text), start + length)


# non-ASCII text before the ranges: UTF-8 and UTF-16 columns differ from code points
KEPT_BASES = ["# café ✓ 😀\n" + b for b in BASES] + ['dev = { instance = "é😀", grant_type = "password" }\n' + BASES[0]]
KEPT_PIECES = [*PIECES, "é", "😀", "%", "%d"]

steps = edit_steps(KEPT_PIECES)


def not_in_crlf(text: str, offset: int) -> int:
    """An offset a client can name (none falls between the CR and the LF of a CRLF)."""
    return offset - 1 if 0 < offset < len(text) and text[offset - 1 : offset + 1] == "\r\n" else offset


def position(index: LineIndex, offset: int, encoding: str) -> t.Position:
    return convert.Converter(index, encoding).position(offset)


def edit_document(doc: Document, start: int, end: int, inserted: str, version: int, encoding: str) -> str:
    """[start, end) of the open document replaced with ``inserted`` as a client sends it
    (a ranged change in ``encoding``) at ``version``: the text after, which the document
    must hold."""
    text = doc.text
    index = LineIndex(text)
    rng = t.Range(position(index, start, encoding), position(index, end, encoding))
    doc.apply([t.TextDocumentContentChangePartial(range=rng, text=inserted)], version, encoding)
    text = text[:start] + inserted + text[end:]
    assert doc.text == text
    return text
