"""The export files (snowauth.exports): each format written into real files keeps what
was there byte for byte around its own entries, clears them again, refuses a path out of
the connection file's folder and a file it cannot read as its format, and stays whole
while processes write it at once; the token workflow writes them after every store and
clears them at revoke (against the emulator)."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import stat
from pathlib import Path

import pytest

from snowauth import exports
from snowauth.analysis import analyze
from snowauth.emulator import Emulator
from snowauth.exports import ExportError, Values
from snowauth.secrets import Environment
from tests.kit.workflow import Person, connection_text, workflow

V = Values("https://dev1.service-now.com", "tok-1")
V2 = Values("https://dev1.service-now.com", "tok-2")


def write(folder: Path, fmt: str, name: str, values: Values | None, argument: str = "out") -> bool:
    t = exports.target(fmt, argument, folder, (folder,))
    return exports.write(t, name, values, (folder,))


@pytest.mark.parametrize("nl", ["\n", "\r\n"])
def test_dotenv_replaces_only_its_two_lines(tmp_path: Path, nl: str) -> None:
    before = nl.join(
        [
            "# database",
            "DB_URL=postgres://x",
            "SNOWAUTH_MY_DEV_ACCESS_TOKEN=old  ",
            "",
            "export OTHER='a b'  # kept",
            "SNOWAUTH_OTHER_ACCESS_TOKEN=someone-elses",
            "LAST=1",  # no line break at the end
        ]
    )
    (tmp_path / "out").write_bytes(before.encode())
    assert write(tmp_path, "dotenv", "my-dev", V)
    got = (tmp_path / "out").read_bytes().decode()
    assert got == before.replace("SNOWAUTH_MY_DEV_ACCESS_TOKEN=old  ", "SNOWAUTH_MY_DEV_ACCESS_TOKEN=tok-1") + (
        nl + "SNOWAUTH_MY_DEV_INSTANCE_URL=https://dev1.service-now.com" + nl
    )
    assert write(tmp_path, "dotenv", "my-dev", V2)
    assert (tmp_path / "out").read_bytes().decode() == got.replace("tok-1", "tok-2")
    assert not write(tmp_path, "dotenv", "my-dev", V2)  # nothing to change: not rewritten
    assert write(tmp_path, "dotenv", "my-dev", None)  # revoke: both lines gone, the rest kept
    assert (tmp_path / "out").read_bytes().decode() == before.replace(
        "SNOWAUTH_MY_DEV_ACCESS_TOKEN=old  " + nl, ""
    ) + nl


def test_dotenv_values_read_back_with_the_dotenv_reader(tmp_path: Path) -> None:
    from snowauth.secrets import parse_dotenv

    odd = Values("http://127.0.0.1:8080/base", "a$b'c#d")
    assert write(tmp_path, "dotenv", "dev", odd, ".env")
    assert parse_dotenv((tmp_path / ".env").read_text()) == {
        "SNOWAUTH_DEV_ACCESS_TOKEN": "a$b'c#d",
        "SNOWAUTH_DEV_INSTANCE_URL": "http://127.0.0.1:8080/base",
    }


@pytest.mark.parametrize("nl", ["\n", "\r\n"])
@pytest.mark.parametrize("indent", ["    ", "\t"])
def test_http_client_merges_and_keeps_the_rest(tmp_path: Path, nl: str, indent: str) -> None:
    data = {"prod": {"host": "x", "n": [1, 2]}, "dev": {"user": "ü", "access_token": "old"}, "z": {}}
    before = json.dumps(data, indent=indent, ensure_ascii=False).replace("\n", nl) + nl
    (tmp_path / "out").write_bytes(before.encode())
    assert write(tmp_path, "http_client", "dev", V)
    got = (tmp_path / "out").read_bytes().decode()
    data["dev"].update(access_token="tok-1", instance_url=V.instance_url)
    assert got == json.dumps(data, indent=indent, ensure_ascii=False).replace("\n", nl) + nl
    assert list(json.loads(got)) == ["prod", "dev", "z"] and list(json.loads(got)["dev"]) == [
        "user",
        "access_token",
        "instance_url",
    ]
    assert write(tmp_path, "http_client", "dev", None)
    del data["dev"]["access_token"], data["dev"]["instance_url"]
    assert (tmp_path / "out").read_bytes().decode() == json.dumps(data, indent=indent, ensure_ascii=False).replace(
        "\n", nl
    ) + nl


def test_http_client_new_file_and_clearing_the_last_key(tmp_path: Path) -> None:
    assert write(tmp_path, "http_client", "dev", V)
    path = tmp_path / "out"
    assert (
        path.read_text()
        == json.dumps({"dev": {"instance_url": V.instance_url, "access_token": "tok-1"}}, indent=2) + "\n"
    )
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert write(tmp_path, "http_client", "dev", None)
    assert json.loads(path.read_text()) == {}
    assert not write(tmp_path, "http_client", "gone", None)
    assert not (tmp_path / "absent").exists() and not write(tmp_path, "http_client", "dev", None, "absent")


def test_postman_environment(tmp_path: Path) -> None:
    assert write(tmp_path, "postman", "dev", V)
    data = json.loads((tmp_path / "out").read_text())
    assert data["name"] == "snowauth dev" and data["_postman_variable_scope"] == "environment" and data["id"]
    assert data["values"] == [
        {"key": "instance_url", "value": V.instance_url, "type": "default", "enabled": True},
        {"key": "access_token", "value": "tok-1", "type": "secret", "enabled": True},
    ]
    # another tool's environment: its values, their order and its own keys kept
    mine = {
        "id": "f00",
        "name": "Mine",
        "values": [
            {"key": "a", "value": "1", "type": "default", "enabled": False},
            {"key": "access_token", "value": "old", "type": "default", "enabled": True},
        ],
        "_postman_variable_scope": "environment",
        "_postman_exported_using": "Postman/11",
    }
    (tmp_path / "out").write_text(json.dumps(mine, indent=2) + "\n")
    os.chmod(tmp_path / "out", 0o640)
    assert write(tmp_path, "postman", "dev", V2)
    mine["values"][1].update(value="tok-2", type="secret")  # type: ignore[index]
    mine["values"].append({"key": "instance_url", "value": V.instance_url, "type": "default", "enabled": True})  # type: ignore[attr-defined]
    assert (tmp_path / "out").read_text() == json.dumps(mine, indent=2) + "\n"
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o640  # the existing mode kept
    assert write(tmp_path, "postman", "dev", None)
    cleared = json.loads((tmp_path / "out").read_text())
    assert [(v["key"], v["value"]) for v in cleared["values"]] == [
        ("a", "1"),
        ("access_token", ""),
        ("instance_url", V.instance_url),
    ]


@pytest.mark.parametrize("fmt", ["http_client", "postman"])
@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"values": 3, "dev": 4}'])
def test_a_malformed_target_is_not_overwritten(tmp_path: Path, fmt: str, content: str) -> None:
    path = tmp_path / "env.json"
    path.write_text(content)
    with pytest.raises(ExportError) as caught:
        write(tmp_path, fmt, "dev", V, "env.json")
    assert path.read_text() == content
    message = str(caught.value)
    assert "`env.json`" in message and f"export.{fmt}" in message and "fix it" in message
    assert "tok-1" not in message


def test_a_path_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    outside = tmp_path / "outside.env"
    outside.write_text("KEEP=1\n")
    (folder / "linked.env").symlink_to(outside)
    (folder / "sub").symlink_to(tmp_path)
    for argument in ("../outside.env", "linked.env", "sub/outside.env", str(outside), "~/.bashrc"):
        with pytest.raises(ExportError, match="outside the folders snowauth may write"):
            exports.target("dotenv", argument, folder, (folder,))
    text = """[connections.dev]
instance = "dev1"
[connections.dev.export]
dotenv = "../outside.env"
http_client = "linked.env"
postman = "inside.json"
"""
    a = analyze(text, Environment({}, folder))
    warned = sorted(text[f.start : f.end] for f in a.findings if f.code == "export-outside-roots")
    assert warned == ['"../outside.env"', '"linked.env"']
    written, problems = exports.export(a.connections["dev"], folder, (folder,), V)
    assert [t.argument for t in written] == ["inside.json"]
    assert len(problems) == 2 and all("outside the folders" in p for p in problems)
    assert outside.read_text() == "KEEP=1\n" and (folder / "linked.env").is_symlink()


_WHOLE_LINE = re.compile(r"SNOWAUTH_[A-Z]+_(ACCESS_TOKEN=[a-z]+-\d+-x{2000}|INSTANCE_URL=https://[a-z]+\.example)")


def _writer(folder: str, fmt: str, name: str, rounds: int) -> None:
    for i in range(rounds):
        value = Values(f"https://{name}.example", f"{name}-{i}-" + "x" * 2000)
        t = exports.target(fmt, "shared", Path(folder), (Path(folder),))
        exports.write(t, name, value, (Path(folder),))


def _reader(folder: str, fmt: str, rounds: int) -> int:
    """Reads the file while the writers write: each read must parse whole."""
    path = Path(folder) / "shared"
    seen = 0
    for _ in range(rounds):
        try:
            text = path.read_text()
        except FileNotFoundError:
            continue
        if fmt != "dotenv":
            json.loads(text)
        else:
            lines = text.splitlines()
            assert lines[:2] == ["# mine", "A=1"] and all(map(_WHOLE_LINE.fullmatch, lines[2:])), "a torn line"
        seen += 1
    return seen


@pytest.mark.parametrize("fmt", ["dotenv", "http_client", "postman"])
def test_processes_writing_at_once_never_tear_the_file(tmp_path: Path, fmt: str) -> None:
    if fmt == "postman":
        names = ["dev"] * 4  # one environment per file: the writers replace each other's values
        # there from the start, so the reader has a file to read however late the writers start
        empty = {"id": "0", "name": "shared", "values": [], "_postman_variable_scope": "environment"}
        (tmp_path / "shared").write_text(json.dumps(empty))
    else:
        names = ["dev", "test", "prod", "qa"]
        (tmp_path / "shared").write_text("# mine\nA=1\n" if fmt == "dotenv" else '{\n  "mine": {"a": 1}\n}\n')
    rounds = 60
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(len(names) + 1) as pool:
        reading = pool.apply_async(_reader, (str(tmp_path), fmt, 400))
        jobs = [pool.apply_async(_writer, (str(tmp_path), fmt, n, rounds)) for n in names]
        for job in jobs:
            job.get(timeout=120)
        assert reading.get(timeout=120) > 0
    text = (tmp_path / "shared").read_text()
    last = {n: f"{n}-{rounds - 1}-" + "x" * 2000 for n in names}
    if fmt == "dotenv":
        assert text.startswith("# mine\nA=1\n")
        values = dict(line.split("=", 1) for line in text.splitlines()[2:])
        assert values == {
            **{f"SNOWAUTH_{n.upper()}_ACCESS_TOKEN": last[n] for n in names},
            **{f"SNOWAUTH_{n.upper()}_INSTANCE_URL": f"https://{n}.example" for n in names},
        }
    elif fmt == "http_client":
        data = json.loads(text)
        assert data["mine"] == {"a": 1}
        assert {n: data[n] for n in names} == {
            n: {"instance_url": f"https://{n}.example", "access_token": last[n]} for n in names
        }
    else:
        data = json.loads(text)
        assert [(v["key"], v["value"]) for v in data["values"]] == [
            ("instance_url", "https://dev.example"),
            ("access_token", last["dev"]),
        ]
    assert [p.name for p in tmp_path.iterdir()] == ["shared"]  # no temporary file left


async def test_the_workflow_exports_after_a_fetch_and_clears_at_revoke(tmp_path: Path, emulator: Emulator) -> None:
    text = connection_text(emulator.url, store="cache") + (
        '[connections.dev.export]\ndotenv = ".env"\nhttp_client = "http.json"\npostman = "pm.json"\n'
    )
    (tmp_path / ".env").write_text("# mine\r\nKEEP=1\r\n")
    person = Person()
    tokens = await workflow(text, person, tmp_path).fetch()
    assert person.export_warnings == []
    assert (tmp_path / ".env").read_bytes().decode() == (
        f"# mine\r\nKEEP=1\r\nSNOWAUTH_DEV_ACCESS_TOKEN={tokens.access_token}\r\n"
        f"SNOWAUTH_DEV_INSTANCE_URL={emulator.url}\r\n"
    )
    assert json.loads((tmp_path / "http.json").read_text()) == {
        "dev": {"instance_url": emulator.url, "access_token": tokens.access_token}
    }
    refreshed = (await workflow(text, Person(), tmp_path).refresh()).tokens
    assert json.loads((tmp_path / "http.json").read_text())["dev"]["access_token"] == refreshed.access_token
    await workflow(text, Person(), tmp_path).revoke()
    assert (tmp_path / ".env").read_bytes().decode() == "# mine\r\nKEEP=1\r\n"
    assert json.loads((tmp_path / "http.json").read_text()) == {}
    pm = json.loads((tmp_path / "pm.json").read_text())
    assert {v["key"]: v["value"] for v in pm["values"]} == {"instance_url": emulator.url, "access_token": ""}


async def test_a_failed_export_keeps_the_token_and_warns(tmp_path: Path, emulator: Emulator) -> None:
    text = connection_text(emulator.url, store="cache") + '[connections.dev.export]\nhttp_client = "http.json"\n'
    (tmp_path / "http.json").write_text("{broken")
    person = Person()
    tokens = await workflow(text, person, tmp_path).fetch()
    assert (tmp_path / "http.json").read_text() == "{broken"
    assert len(person.export_warnings) == 1 and "`http.json`" in person.export_warnings[0]
    assert tokens.access_token not in person.export_warnings[0]
    # stored all the same: the next obtain reuses it without a request
    before = emulator.token_requests
    got = await workflow(text, Person(), tmp_path).obtain()
    assert got.tokens.access_token == tokens.access_token and emulator.token_requests == before


WRONG_TYPED = "sk-old-token-marker-0123456789"  # what a wrong-typed variable holds: never shown


@pytest.mark.parametrize(
    ("fmt", "content", "said"),
    [
        ("postman", {"values": [{"key": 7, "value": WRONG_TYPED}]}, "its values[0].key is not text"),
        ("postman", {"values": [{"key": "a", "enabled": WRONG_TYPED}]}, "its values[0].enabled is not true or false"),
        ("postman", {"values": [WRONG_TYPED]}, "its values[0] is not an object"),
        ("postman", {"values": None}, "its values is not a list"),
        ("http_client", {"dev": [WRONG_TYPED]}, "environment `dev` is not a JSON object"),
    ],
)
def test_a_target_of_another_shape_is_named_without_its_values(
    tmp_path: Path, fmt: str, content: object, said: str
) -> None:
    path = tmp_path / "env.json"
    path.write_text(json.dumps(content))
    with pytest.raises(ExportError) as caught:
        write(tmp_path, fmt, "dev", V, "env.json")
    assert path.read_text() == json.dumps(content)
    assert said in str(caught.value) and WRONG_TYPED not in str(caught.value)


def test_extra_null_and_deeply_nested_values_are_kept(tmp_path: Path) -> None:
    nested: object = "deep"
    for _ in range(400):
        nested = {"n": [nested]}
    mine = {
        "id": None,
        "values": [{"key": "a", "value": nested, "type": None, "enabled": None, "description": {"x": 1}}],
        "other": [1.5, None, True],
    }
    (tmp_path / "out").write_text(json.dumps(mine))
    assert write(tmp_path, "postman", "dev", V)
    written = json.loads((tmp_path / "out").read_text())
    assert written["values"][0] == mine["values"][0] and written["other"] == mine["other"]  # type: ignore[index]
    assert [v["key"] for v in written["values"]] == ["a", "instance_url", "access_token"]
    (tmp_path / "out").write_text(json.dumps({"dev": {"deep": nested, "x": None}, "prod": 3}))
    assert write(tmp_path, "http_client", "dev", V)
    env = json.loads((tmp_path / "out").read_text())
    assert env["prod"] == 3 and env["dev"]["deep"] == nested and env["dev"]["access_token"] == "tok-1"
