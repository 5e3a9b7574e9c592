"""Document links through the real language server over stdio (VS Code: UTF-16; Neovim:
UTF-8), on real files: the instance, the Application Registry record of `client_id` and of
the SDK's client, `${file:}` and key files where `${file:}` may read; nothing for a link
out of the folder, a reference's value, or a secret."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth.instance_records import SDK_CLIENT_ID
from tests.kit.lsp import Editor, expected_range, negotiated_encoding, session_fixture, span_of

client = session_fixture(presets=("visual-studio-code", "neovim"), env={"SNOW_LINK_HOST": "evil.example.com"})

TEXT = """# café ✓ 😀
[connections.dev]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "abc123"
client_secret = "${file:secret.txt}"
jwt_key_file = "link.pem"

[connections]
sdk = { username = "😀", instance = "https://My.Example.com:8443/sub", client = "servicenow-sdk" }
hidden = { instance = "${env:SNOW_LINK_HOST}", client_id = "abc", client_secret = "literal-secret-1" }
up = { instance = "dev2", client_id = "${env:SNOW_LINK_HOST}", ca_bundle = "../outside.pem" }
"""


async def test_document_links(client: LanguageClient, tmp_path: Path) -> None:
    enc = negotiated_encoding(client)
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "secret.txt").write_text("file-secret-value\n")
    (tmp_path / "outside.pem").write_text("outside\n")
    (folder / "link.pem").symlink_to(tmp_path / "outside.pem")
    path = folder / "links.snowauth.toml"
    path.write_text(TEXT, encoding="utf-8")
    uri = path.as_uri()
    Editor(client, enc).open(uri, TEXT)
    found = await client.text_document_document_link_async(t.DocumentLinkParams(t.TextDocumentIdentifier(uri)))
    assert found is not None
    caps = client.capabilities.text_document  # type: ignore[union-attr]
    tips = bool(caps and caps.document_link and caps.document_link.tooltip_support)
    ordered = sorted(found, key=lambda k: (k.range.start.line, k.range.start.character))
    got = [(link.range, link.target, link.tooltip if tips else "(none)") for link in ordered]
    assert tips or all(link.tooltip is None for link in found)

    def tip(text: str | None) -> str | None:
        return text if tips else "(none)"

    registry = "/oauth_entity_list.do?sysparm_query=client_id="
    assert got == [
        (
            expected_range(TEXT, *span_of(TEXT, "dev12345"), enc),
            "https://dev12345.service-now.com/",
            tip("Open dev12345.service-now.com"),
        ),
        (
            expected_range(TEXT, *span_of(TEXT, "abc123"), enc),
            "https://dev12345.service-now.com" + registry + "abc123",
            tip("Open the Application Registry record on dev12345.service-now.com"),
        ),
        (expected_range(TEXT, *span_of(TEXT, "${file:secret.txt}"), enc), (folder / "secret.txt").as_uri(), tip(None)),
        (
            expected_range(TEXT, *span_of(TEXT, "https://My.Example.com:8443/sub"), enc),
            "https://my.example.com:8443/",
            tip("Open my.example.com:8443"),
        ),
        (
            expected_range(TEXT, *span_of(TEXT, "servicenow-sdk"), enc),
            "https://my.example.com:8443" + registry + SDK_CLIENT_ID,
            tip("Open the Application Registry record on my.example.com:8443"),
        ),
        (
            expected_range(TEXT, *span_of(TEXT, "dev2"), enc),
            "https://dev2.service-now.com/",
            tip("Open dev2.service-now.com"),
        ),
    ]
    # nothing read from a reference or a file reaches a link; the linked key file and the
    # path above the folder get none
    shown = repr(found)
    for secret in ("evil.example.com", "file-secret-value", "literal-secret-1", "outside.pem", "link.pem"):
        assert secret not in shown


MANY = (
    "# café ✓ 😀\n"
    + "".join(f'[connections.c{i}]\ninstance = "dev{i}"\nclient_id = "id{i}"\n\n' for i in range(6))
    + '[connections]\ninl = { client_secret = "😀", instance = "devinl" }\n'
)


async def test_links_follow_edits(client: LanguageClient, tmp_path: Path) -> None:
    enc = negotiated_encoding(client)
    path = tmp_path / "many.snowauth.toml"
    path.write_text(MANY, encoding="utf-8")
    uri = path.as_uri()
    editor = Editor(client, enc)
    editor.open(uri, MANY)

    async def check() -> None:
        text = editor.texts[uri]
        found = await client.text_document_document_link_async(t.DocumentLinkParams(t.TextDocumentIdentifier(uri)))
        assert found is not None
        got = sorted((k.range.start.line, k.range.start.character, k.range.end.character, k.target) for k in found)
        wanted = []
        for i in [*range(6), "inl"]:
            host = f"dev{i}.service-now.com"
            s, e = span_of(text, f'"dev{i}"')
            r = expected_range(text, s + 1, e - 1, enc)
            wanted.append((r.start.line, r.start.character, r.end.character, f"https://{host}/"))
            if i != "inl":
                s, e = span_of(text, f'"id{i}"')
                r = expected_range(text, s + 1, e - 1, enc)
                url = f"https://{host}/oauth_entity_list.do?sysparm_query=client_id=id{i}"
                wanted.append((r.start.line, r.start.character, r.end.character, url))
        assert got == sorted(wanted)

    await check()
    editor.type(uri, MANY.index("[connections.c2]"), "# 😀 two\n# lines\n")  # the connections after move
    await check()
    at = editor.texts[uri].index('"dev4"') + 1
    editor.replace(uri, at, at + 4, "dev4😀x")  # one connection's instance changes: not a host
    text = editor.texts[uri]
    found = await client.text_document_document_link_async(t.DocumentLinkParams(t.TextDocumentIdentifier(uri)))
    assert found is not None and len(found) == 11  # c4 lost both its links
    assert not any("dev4" in k.target for k in found)
    editor.replace(uri, at, at + len("dev4😀x"), "dev4")
    assert editor.texts[uri] == text.replace("dev4😀x", "dev4")
    await check()


async def test_links_after_edits_equal_the_links_of_the_text(client: LanguageClient, tmp_path: Path) -> None:
    """The links kept per connection and printed as JSON text (lines renumbered when lines
    are added above a connection) are, after every edit, those the core finds in the text
    as it is then, tooltips included."""
    import random

    from snowauth.analysis import analyze
    from snowauth.links import links
    from snowauth.secrets import Environment

    enc = negotiated_encoding(client)
    caps = client.capabilities.text_document  # type: ignore[union-attr]
    tips = bool(caps and caps.document_link and caps.document_link.tooltip_support)
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "key.pem").write_text("key\n")
    path = folder / "edits.snowauth.toml"
    text = MANY + '[connections.jwt]\ninstance = "devj"\njwt_key_file = "key.pem"\nclient = "servicenow-sdk"\n'
    path.write_text(text, encoding="utf-8")
    uri = path.as_uri()
    editor = Editor(client, enc)
    editor.open(uri, text)
    rng = random.Random(7)
    for step in range(12):
        current = editor.texts[uri]
        heads = [i for i in range(len(current)) if current.startswith("[connections", i)]
        at = rng.choice([0, *heads])
        kind = step % 4
        if kind == 0:
            editor.type(uri, at, "# é 😀\n")  # a line above some connections
        elif kind == 1:
            s = current.index('"dev', at) + 1 if '"dev' in current[at:] else current.index('"dev') + 1
            editor.type(uri, s, "x")  # an instance changes
        elif kind == 2 and current.startswith("# é 😀\n", at):
            editor.replace(uri, at, at + len("# é 😀\n"), "")  # a line removed
        else:
            editor.type(uri, at, f'[connections.n{step}]\ninstance = "devn{step}"\nclient_id = "idn{step}"\n')
        final = editor.texts[uri]
        found = await client.text_document_document_link_async(t.DocumentLinkParams(t.TextDocumentIdentifier(uri)))
        assert found is not None
        got = sorted((k.range.start.line, k.range.start.character, k.range.end.line, k.range.end.character, k.target,
                      k.tooltip) for k in found)  # fmt: skip
        wanted = []
        for k in links(analyze(final, Environment({}, folder)), Environment({}, folder)):
            r = expected_range(final, k.start, k.end, enc)
            wanted.append((r.start.line, r.start.character, r.end.line, r.end.character, k.target,
                           k.tooltip if tips else None))  # fmt: skip
        assert got == sorted(wanted), step
        assert any(k[4].startswith("file:") for k in got)  # the key file's link is there
