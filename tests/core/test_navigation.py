"""Definition, references, rename (navigation.py) and document links (links.py) on the core:
every form a connection takes, the incremental analysis against a fresh one, the export
targets a rename carries the name into (real files), and what is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from snowauth import links, navigation
from snowauth.analysis import Analysis, analyze
from snowauth.incremental import Incremental
from snowauth.secrets import Environment, dotenv_names
from tests.kit.analysis import apply_edits
from tests.kit.clock import NOW

FORMS = """default = "dev"

[connections]
dev.instance = "dev1"
dev.grant_type = "client_credentials"
inl = { instance = "dev2", grant_type = "client_credentials" }

[connections.dev.token]
access_token = "t"

[connections.dev.export]
dotenv = ".env"
"""


def env(folder: Path | None = None, **variables: str) -> Environment:
    return Environment(variables, folder)


def names(a: Analysis, spans: list[tuple[int, int]]) -> list[str]:
    return [a.text[s:e] for s, e in spans]


def test_definition_of_default_goes_to_the_first_introducer() -> None:
    a = analyze(FORMS)
    assert navigation.definition(a, FORMS.index('"dev"') + 1, env()) == [
        (FORMS.index("dev.instance"), FORMS.index("dev.instance") + len("dev.instance"))
    ]
    text = FORMS.replace('default = "dev"', 'default = "inl"')
    a = analyze(text)
    target = navigation.definition(a, text.index('"inl"') + 1, env())
    assert target == [(text.index("inl = {"), text.index("inl = {") + 3)]
    # a default naming nothing, and a key, have no definition
    text = FORMS.replace('default = "dev"', 'default = "nope"')
    assert navigation.definition(analyze(text), text.index("nope"), env()) == []
    assert navigation.definition(analyze(FORMS), FORMS.index("instance"), env()) == []


def test_references_in_every_form_and_declaration() -> None:
    a = analyze(FORMS)
    every = navigation.references(a, "dev", include_declaration=True)
    assert names(a, every) == ["dev"] * 5  # default, 2 dotted keys, token, export headers
    assert every[0] == (FORMS.index('"dev"') + 1, FORMS.index('"dev"') + 4)
    without = navigation.references(a, "dev", include_declaration=False)
    assert len(without) == 4 and FORMS.index("dev.instance") not in {s for s, _ in without}
    for s, _ in every:
        assert navigation.name_at(a, s + 1) == ("dev", *next(r for r in every if r[0] == s))
    top = 'connections.dev.instance = "dev1"\nconnections.dev.grant_type = "password"\n'
    assert names(analyze(top), navigation.references(analyze(top), "dev", include_declaration=True)) == ["dev"] * 2


def test_references_from_the_incremental_analysis_match_a_fresh_one() -> None:
    text = FORMS + '[connections.other]\ninstance = "x"\n'
    engine = Incremental(text)
    engine.analysis(env(), NOW)
    at = text.index("[connections.dev.token]")
    inserted = '"dev".scope = "x"\n\n[connections.dev.extra]\nk = 1\n\n'
    text = text[:at] + inserted + text[at:]
    engine.edit(text, at, at, len(inserted))
    live = engine.analysis(env(), NOW)
    fresh = analyze(text)
    got = navigation.references(live, "dev", include_declaration=True)
    assert got == navigation.references(fresh, "dev", include_declaration=True)
    assert len(got) == 7 and names(live, got).count("dev") == 7


def test_prepare_rename_and_refusals() -> None:
    a = analyze(FORMS)
    o = FORMS.index("inl")
    assert navigation.prepare_rename(a, o) == (o, o + 3, "inl")
    for where in (FORMS.index("instance"), FORMS.index('"dev1"') + 1, 0):
        with pytest.raises(navigation.RenameError, match="only a connection's name can be renamed here"):
            navigation.prepare_rename(a, where)
    with pytest.raises(navigation.RenameError, match='A connection named "inl" already exists'):
        navigation.rename(a, FORMS.index("dev.instance"), "inl", env())
    with pytest.raises(navigation.RenameError, match="cannot be empty"):
        navigation.rename(a, o, "", env())
    with pytest.raises(navigation.RenameError, match="line breaks"):
        navigation.rename(a, o, "a\nb", env())
    assert navigation.rename(a, o, "inl", env()).edits == []


def test_rename_writes_bare_or_quoted_and_back_gives_the_same_bytes(tmp_path: Path) -> None:
    text = FORMS.replace('default = "dev"', "default = 'dev'").replace(
        '[connections.dev.export]\ndotenv = ".env"\n',
        '[connections.dev.export]\ndotenv = ".env"\nhttp_client = "h.json"\n',
    )
    dotenv = "# ✓\r\nSNOWAUTH_DEV_ACCESS_TOKEN=t\r\nexport SNOWAUTH_DEV_INSTANCE_URL=https://x\r\nKEEP=1\r\n"
    http = '{"a": {"dev": 1}, "dev" : {"access_token": "t", "x": [1, {"y": "}"}]}}'
    (tmp_path / ".env").write_bytes(dotenv.encode())
    (tmp_path / "h.json").write_text(http, encoding="utf-8")
    e = env(tmp_path)
    a = analyze(text)
    done = navigation.rename(a, text.index("dev.instance"), "prod ✓", e)
    renamed = apply_edits(text, done.edits)
    assert "default = 'prod ✓'" in renamed and '"prod ✓".instance' in renamed
    assert '[connections."prod ✓".token]' in renamed
    assert navigation.references(analyze(renamed), "prod ✓", include_declaration=True)
    files = {path.name: apply_edits(old, edits) for path, old, edits in done.files}
    assert files[".env"] == dotenv.replace("SNOWAUTH_DEV_", "SNOWAUTH_PROD___")
    assert files["h.json"] == http.replace('"dev" :', '"prod ✓" :')
    # back: the same bytes everywhere
    (tmp_path / ".env").write_text(files[".env"], encoding="utf-8", newline="")
    (tmp_path / "h.json").write_text(files["h.json"], encoding="utf-8")
    a = analyze(renamed)
    back = navigation.rename(a, renamed.index("prod ✓"), "dev", e)
    assert apply_edits(renamed, back.edits) == text
    assert {p.name: apply_edits(old, ed) for p, old, ed in back.files} == {".env": dotenv, "h.json": http}


def test_rename_refuses_an_export_name_already_taken(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SNOWAUTH_DEV_ACCESS_TOKEN=t\nSNOWAUTH_PROD_ACCESS_TOKEN=u\n")
    with pytest.raises(navigation.RenameError, match="SNOWAUTH_PROD_ACCESS_TOKEN"):
        navigation.rename(analyze(FORMS), FORMS.index("dev.instance"), "prod", env(tmp_path))


def test_rename_leaves_an_export_target_out_of_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    (tmp_path / "outside.env").write_text("SNOWAUTH_DEV_ACCESS_TOKEN=t\n")
    (folder / ".env").symlink_to(tmp_path / "outside.env")
    done = navigation.rename(analyze(FORMS), FORMS.index("dev.instance"), "prod", env(folder))
    assert done.files == [] and len(done.edits) == 5


def test_env_reference_where_set_and_dotenv_names(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=1\n  export  B = 2\nB=3\n")
    assert dotenv_names((tmp_path / ".env").read_text()) == {"A": (0, 1), "B": (20, 21)}
    text = '[connections.dev]\nclient_secret = "x${env:B}y"\npassword = "${env:P}"\nusername = "${env:N}"\n'
    a = analyze(text)
    e = env(tmp_path, P="process-value")
    b = navigation.env_reference_at(a, text.index("${env:B}") + 1, e)
    assert b is not None and (b.where, b.line, text[b.start : b.end]) == ("dotenv", 3, "${env:B}")
    p = navigation.env_reference_at(a, text.index("${env:P}"), e)
    assert p is not None and p.where == "process"
    n = navigation.env_reference_at(a, text.index("${env:N}"), e)
    assert n is not None and n.where == "nowhere"
    assert navigation.definition(a, text.index("${env:P}") + 2, e) == []
    found = navigation.definition(a, text.index("${env:B}") + 2, e)
    assert found == [navigation.FileSpot(tmp_path / ".env", (tmp_path / ".env").read_text(), 20, 21)]


def test_no_dotenv_through_a_link_out_of_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    (tmp_path / "creds").write_text("B=secret-value\n")
    (folder / ".env").symlink_to(tmp_path / "creds")
    text = '[connections.dev]\npassword = "${env:B}"\n'
    a = analyze(text)
    assert navigation.definition(a, text.index("${env:B}"), env(folder)) == []
    ref = navigation.env_reference_at(a, text.index("${env:B}"), env(folder))
    assert ref is not None and ref.where == "nowhere" and ref.refused and "symbolic link" in ref.refused


def test_links_never_read_a_reference(tmp_path: Path) -> None:
    text = (
        '[connections.a]\ninstance = "${env:H}"\nclient_id = "abc"\n'
        '[connections.b]\ninstance = "https://h.example.com/x"\nclient_id = "${env:C}"\n'
        'client = "servicenow-sdk"\n'
    )
    got = links.links(analyze(text), env(tmp_path, H="evil.example.com", C="cid", SDK_OAUTH_APP_CLIENT_ID="mine"))
    assert [(text[k.start : k.end], k.target) for k in got] == [
        ("https://h.example.com/x", "https://h.example.com/"),
        ("servicenow-sdk", "https://h.example.com/oauth_entity_list.do?sysparm_query=client_id=mine"),
    ]


def test_connection_headers_follow_edits_without_moving_connections() -> None:
    text = FORMS + "".join(f'[connections.c{i}]\ninstance = "dev{i}"\n' for i in range(5))
    engine = Incremental(text)
    engine.analysis(env(), NOW)
    for at, new in ((0, "\n\n"), (text.index("[connections.c3]") + 5, "x"), (0, "# é\n")):
        text = text[:at] + new + text[at:]
        engine.edit(text, at, at, len(new))
        live = engine.analysis(env(), NOW)
        got = sorted((c.name, start) for c, start in live.connection_headers())
        fresh = analyze(text)
        assert got == sorted((c.name, start) for c, start in fresh.connection_headers())
        assert all(text.startswith(("[connections.", "dev.", "inl ="), start) for _, start in got)
