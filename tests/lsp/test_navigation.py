"""Go to definition, the hover on `${env:}`, references and rename of a connection, through
the real language server over stdio (VS Code: UTF-16; Neovim: UTF-8), on real files: the
connection file, its `.env`, key files, a symbolic link out of the folder, export targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lsprotocol import types as t
from pytest_lsp import LanguageClient

from snowauth import navigation
from snowauth.findings import Edit
from snowauth.lsp import convert
from snowauth.positions import LineIndex
from tests.kit.lsp import Editor, apply_everywhere, expected_range, negotiated_encoding, session_fixture, span_of

client = session_fixture(presets=("visual-studio-code", "neovim"), env={"SNOW_NAV_PROCESS": "process-value-42"})

DOTENV = "# 😀 a comment\nOTHER=1\nexport SNOW_NAV_SECRET = 's3cr3t-value'\n"
TEXT = """# café ✓ 😀
default = "dev"

[connections.dev]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "abc123"
client_secret = "😀${env:SNOW_NAV_SECRET}"
jwt_key_file = "keys/jwt.pem"
ca_bundle = "link.pem"
client_cert = "../outside.pem"

[connections.other]
instance = "dev2"
grant_type = "password"
client_id = "x"
client_secret = "${env:SNOW_NAV_PROCESS}"
username = "u"
password = "${env:SNOW_NAV_MISSING}"
"""


def project(tmp_path: Path, text: str = TEXT) -> tuple[Path, str]:
    folder = tmp_path / "proj"
    (folder / "keys").mkdir(parents=True)
    (folder / "keys" / "jwt.pem").write_text("not a real key\n")
    (folder / ".env").write_text(DOTENV, encoding="utf-8")
    (tmp_path / "outside.pem").write_text("outside\n")
    (folder / "link.pem").symlink_to(tmp_path / "outside.pem")
    path = folder / "nav.snowauth.toml"
    path.write_text(text, encoding="utf-8")
    return folder, path.as_uri()


def at(text: str, offset: int, encoding: str) -> t.Position:
    return expected_range(text, offset, offset, encoding).start


async def definition(client: LanguageClient, uri: str, text: str, offset: int) -> list[t.Location]:
    found = await client.text_document_definition_async(
        t.DefinitionParams(t.TextDocumentIdentifier(uri), at(text, offset, negotiated_encoding(client)))
    )
    assert found is None or isinstance(found, list)
    return [loc for loc in found or [] if isinstance(loc, t.Location)]


async def test_definition_from_default_env_and_key_files(client: LanguageClient, tmp_path: Path) -> None:
    enc = negotiated_encoding(client)
    folder, uri = project(tmp_path)
    Editor(client, enc).open(uri, TEXT)
    # `default = "dev"` -> the header
    found = await definition(client, uri, TEXT, span_of(TEXT, '"dev"')[0] + 2)
    assert found == [t.Location(uri, expected_range(TEXT, *span_of(TEXT, "[connections.dev]"), enc))]
    # `${env:SNOW_NAV_SECRET}` after an emoji -> its name on its line of the .env
    start, end = span_of(TEXT, "${env:SNOW_NAV_SECRET}")
    for offset in (start, start + 8, end):
        found = await definition(client, uri, TEXT, offset)
        name = span_of(DOTENV, "SNOW_NAV_SECRET")
        assert found == [t.Location((folder / ".env").as_uri(), expected_range(DOTENV, *name, enc))]
    # a key file inside the folder -> the file
    found = await definition(client, uri, TEXT, span_of(TEXT, "keys/jwt.pem")[0] + 3)
    assert found == [t.Location((folder / "keys" / "jwt.pem").as_uri(), t.Range(t.Position(0, 0), t.Position(0, 0)))]
    # a link out of the folder, a path above it, a variable only in the process, or nowhere
    for needle in ("link.pem", "../outside.pem", "SNOW_NAV_PROCESS", "SNOW_NAV_MISSING", "dev12345"):
        assert await definition(client, uri, TEXT, span_of(TEXT, needle)[0] + 2) == [], needle


async def test_definition_from_file_references(client: LanguageClient, tmp_path: Path) -> None:
    enc = negotiated_encoding(client)
    text = TEXT.replace('username = "u"', 'username = "${file:keys/jwt.pem}"').replace(
        'client_id = "x"', 'client_id = "${file:link.pem}"'
    )
    folder, uri = project(tmp_path, text)
    Editor(client, enc).open(uri, text)
    found = await definition(client, uri, text, span_of(text, "${file:keys")[0] + 1)
    assert found == [t.Location((folder / "keys" / "jwt.pem").as_uri(), t.Range(t.Position(0, 0), t.Position(0, 0)))]
    assert await definition(client, uri, text, span_of(text, "${file:link.pem}")[0] + 3) == []


async def test_hover_on_env_reference_says_where_never_the_value(client: LanguageClient, tmp_path: Path) -> None:
    enc = negotiated_encoding(client)
    _folder, uri = project(tmp_path)
    Editor(client, enc).open(uri, TEXT)
    said = {}
    for name in ("SNOW_NAV_SECRET", "SNOW_NAV_PROCESS", "SNOW_NAV_MISSING"):
        start, end = span_of(TEXT, "${env:" + name + "}")
        hover = await client.text_document_hover_async(
            t.HoverParams(t.TextDocumentIdentifier(uri), at(TEXT, start + 3, enc))
        )
        assert hover is not None and hover.range == expected_range(TEXT, start, end, enc)
        assert isinstance(hover.contents, t.MarkupContent)
        said[name] = hover.contents.value
        assert "s3cr3t-value" not in said[name] and "process-value-42" not in said[name]
    assert "set in the .env beside this file (line 3)" in said["SNOW_NAV_SECRET"]
    assert "set in the process environment" in said["SNOW_NAV_PROCESS"]
    assert "not set in .env nor in the environment" in said["SNOW_NAV_MISSING"]


# -- references and rename ---------------------------------------------------------------------

NAMED = """# café ✓ 😀
default = "dév😀"

[connections."dév😀"]
instance = "dev12345"
grant_type = "client_credentials"
client_id = "abc"
client_secret = "${env:SNOW_NAV_SECRET}"

[connections."dév😀".token]
access_token = "t"

[connections."dév😀".export]
dotenv = ".env"
http_client = "http-client.private.env.json"

[connections]
"dév😀".scope = "useraccount"
dev = { instance = "dev1", grant_type = "client_credentials", client_id = "a", client_secret = "${env:X}" }
"""
HTTP_CLIENT = (
    '{\n  "other": {"access_token": "keep"},\n  "dév😀": {\n'
    '    "instance_url": "https://dev12345.service-now.com",\n    "access_token": "t"\n  }\n}\n'
)
EXPORT_DOTENV = (
    "# 😀\nSNOWAUTH_D_V__ACCESS_TOKEN=t\nSNOWAUTH_D_V__INSTANCE_URL=https://dev12345.service-now.com\nKEEP=1\n"
)


def named_project(tmp_path: Path) -> tuple[Path, str]:
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / ".env").write_text(EXPORT_DOTENV, encoding="utf-8")
    (folder / "http-client.private.env.json").write_text(HTTP_CLIENT, encoding="utf-8")
    path = folder / "named.snowauth.toml"
    path.write_text(NAMED, encoding="utf-8")
    return folder, path.as_uri()


def name_spans(text: str, name: str) -> list[tuple[int, int]]:
    spans, at_ = [], 0
    while (i := text.find(name, at_)) != -1:
        spans.append((i, i + len(name)))
        at_ = i + 1
    return spans


@pytest.mark.parametrize("include", [True, False])
async def test_references_of_a_connection(client: LanguageClient, tmp_path: Path, include: bool) -> None:
    enc = negotiated_encoding(client)
    _folder, uri = named_project(tmp_path)
    Editor(client, enc).open(uri, NAMED)
    every = name_spans(NAMED, "dév😀")  # default, header, token, export, dotted key
    assert len(every) == 5
    wanted = [expected_range(NAMED, s, e, enc) for s, e in every if include or s != every[1][0]]
    for s, _e in every:  # from each place that names it
        found = await client.text_document_references_async(
            t.ReferenceParams(
                context=t.ReferenceContext(include),
                text_document=t.TextDocumentIdentifier(uri),
                position=at(NAMED, s + 1, enc),
            )
        )
        assert found is not None
        assert [loc.range for loc in found] == wanted and {loc.uri for loc in found} == {uri}
    # the inline connection `dev = {…}`: itself only
    s, _ = span_of(NAMED, "dev = {")
    found = await client.text_document_references_async(
        t.ReferenceParams(
            context=t.ReferenceContext(True), text_document=t.TextDocumentIdentifier(uri), position=at(NAMED, s, enc)
        )
    )
    assert found is not None and [loc.range for loc in found] == [expected_range(NAMED, s, s + 3, enc)]


async def test_prepare_rename(client: LanguageClient, tmp_path: Path) -> None:
    enc = negotiated_encoding(client)
    _folder, uri = named_project(tmp_path)
    Editor(client, enc).open(uri, NAMED)
    s, e = span_of(NAMED, "dév😀", within="[connections.")
    found = await client.text_document_prepare_rename_async(
        t.PrepareRenameParams(t.TextDocumentIdentifier(uri), at(NAMED, s + 2, enc))
    )
    assert isinstance(found, t.PrepareRenamePlaceholder)
    assert found.range == expected_range(NAMED, s, e, enc) and found.placeholder == "dév😀"
    with pytest.raises(Exception, match="only a connection's name can be renamed here"):
        await client.text_document_prepare_rename_async(
            t.PrepareRenameParams(t.TextDocumentIdentifier(uri), at(NAMED, span_of(NAMED, "instance")[0], enc))
        )


async def rename(client: LanguageClient, uri: str, text: str, offset: int, new: str) -> t.WorkspaceEdit:
    edit = await client.text_document_rename_async(
        t.RenameParams(t.TextDocumentIdentifier(uri), at(text, offset, negotiated_encoding(client)), new)
    )
    assert edit is not None
    return edit


async def test_rename_and_back_gives_the_original_bytes(client: LanguageClient, tmp_path: Path) -> None:
    enc = negotiated_encoding(client)
    folder, uri = named_project(tmp_path)
    editor = Editor(client, enc)
    editor.open(uri, NAMED)
    edit = await rename(client, uri, NAMED, span_of(NAMED, "dév😀")[0] + 1, "prod")  # from `default`
    uris = [c.text_document.uri for c in edit.document_changes or [] if isinstance(c, t.TextDocumentEdit)]
    uris += list(edit.changes or {})
    dotenv, http = (folder / ".env").as_uri(), (folder / "http-client.private.env.json").as_uri()
    assert sorted(uris) == sorted([uri, dotenv, http])
    if edit.document_changes:  # this document against its version, the others against none
        versions = {c.text_document.uri: c.text_document.version for c in edit.document_changes}  # type: ignore[union-attr]
        assert versions == {uri: 1, dotenv: None, http: None}
    apply_everywhere(editor, edit)
    renamed = editor.texts[uri]
    assert renamed == (
        NAMED.replace('default = "dév😀"', 'default = "prod"').replace('"dév😀"', "prod").replace("dév😀", "prod")
    )
    assert (folder / ".env").read_text(encoding="utf-8") == EXPORT_DOTENV.replace("SNOWAUTH_D_V__", "SNOWAUTH_PROD_")
    assert json.loads((folder / "http-client.private.env.json").read_text(encoding="utf-8")) == {
        "other": {"access_token": "keep"},
        "prod": {"instance_url": "https://dev12345.service-now.com", "access_token": "t"},
    }
    # a name another connection has is refused, with the reason
    with pytest.raises(Exception, match='A connection named "dev" already exists'):
        await rename(client, uri, renamed, span_of(renamed, "prod", within="[connections.")[0], "dev")
    edit = await rename(client, uri, renamed, span_of(renamed, "prod", within="[connections.")[0], "dév😀")
    apply_everywhere(editor, edit)
    assert editor.texts[uri] == NAMED
    assert (folder / ".env").read_bytes() == EXPORT_DOTENV.encode()
    assert (folder / "http-client.private.env.json").read_bytes() == HTTP_CLIENT.encode()


def test_rename_edit_as_plain_changes_for_a_client_without_document_changes(tmp_path: Path) -> None:
    text = "# 😀\n[connections.dev]\n"
    other = tmp_path / ".env"
    found = navigation.Rename(
        [Edit(17, 20, "prod")], [(other, "# 😀 SNOWAUTH_DEV_ACCESS_TOKEN=1\n", [Edit(4, 16, "SNOWAUTH_PROD_")])]
    )
    conv = convert.Converter(LineIndex(text), "utf-16")
    edit = convert.rename_edit("file:///x.snowauth.toml", 3, conv, found, document_changes=False)
    assert edit.document_changes is None
    assert edit.changes == {
        "file:///x.snowauth.toml": [t.TextEdit(t.Range(t.Position(1, 13), t.Position(1, 16)), "prod")],
        other.as_uri(): [t.TextEdit(t.Range(t.Position(0, 5), t.Position(0, 17)), "SNOWAUTH_PROD_")],
    }
