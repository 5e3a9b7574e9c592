"""editing: completion in every context, hover on every key, symbols and code lenses."""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from snowauth import model
from snowauth.analysis import Analysis
from snowauth.completion import Completion, complete, table_at
from snowauth.hover import hover
from snowauth.lenses import LensInfo, lens_state_title, lenses, titles_until
from snowauth.outline import symbols
from snowauth.secrets import Environment
from tests.kit.analysis import FORMS, HEX32, apply_edits, find_kv, grant_keys, header_span, password_keys, render, run
from tests.kit.clock import NOW

ENV = Environment({"SNOW_A": "1", "HOME": "/root", "SNOW_DEV_PASSWORD": "x"}, None)
ALL_KEYS = list(model.CONNECTION_KEYS)


def at(text_with_cursor: str) -> tuple[Analysis, int]:
    """Analyze a text with ``|`` marking the cursor."""
    offset = text_with_cursor.index("|")
    text = text_with_cursor.replace("|", "", 1)
    return run(text, ENV), offset


def items(text_with_cursor: str, *, snippets: bool = True, env: Environment = ENV) -> list[Completion]:
    a, offset = at(text_with_cursor)
    out = complete(a, offset, env, snippets=snippets)
    for c in out:
        assert c.start <= offset <= c.end, c
        assert 0 <= c.start <= c.end <= len(a.text)
    return sorted(out, key=lambda c: c.sort_text)


def labels(text_with_cursor: str, **kw: object) -> list[str]:
    return [c.label for c in items(text_with_cursor, **kw)]  # type: ignore[arg-type]


def accept(text_with_cursor: str, label: str, **kw: object) -> str:
    """The text after accepting the completion ``label`` (plain, without snippets)."""
    a, _ = at(text_with_cursor)
    (c,) = [c for c in items(text_with_cursor, snippets=False, **kw) if c.label == label]  # type: ignore[arg-type]
    return a.text[: c.start] + c.insert_text + a.text[c.end :]


# -- keys of a connection ----------------------------------------------------------------


GRANT_ORDER = {
    "password": ["instance", "grant_type", "client_id", "client_secret", "username", "password"],
    "client_credentials": ["instance", "grant_type", "client_id", "client_secret"],
    "authorization_code": ["instance", "grant_type", "client_id", "redirect_uri"],
    "refresh_token": ["instance", "grant_type", "client_id", "refresh_token"],
    "jwt_bearer": ["instance", "grant_type", "client_id", "jwt_key_file", "jwt_subject"],
}
GRANT_ONLY = {"username", "password", "otp", "refresh_token", "redirect_uri", "pkce", "client"} | {
    k for k in ALL_KEYS if k.startswith("jwt_")
}
USED_BY = {
    "password": {"username", "password", "otp"},
    "client_credentials": set(),
    "authorization_code": {"redirect_uri", "pkce", "client"},
    "refresh_token": {"refresh_token"},
    "jwt_bearer": {"jwt_key_file", "jwt_subject", "jwt_key_id", "jwt_algorithm", "jwt_shared_secret", "jwt_audience"},
}


@pytest.mark.parametrize("grant", list(GRANT_ORDER))
@pytest.mark.parametrize(
    "template",
    [
        '[connections.dev]\ngrant_type = "{g}"\n|\n',
        '[connections]\ndev.grant_type = "{g}"\ndev.|\n',
        'connections.dev.grant_type = "{g}"\nconnections.dev.|\n',
        '[connections]\ndev = {{ grant_type = "{g}", | }}\n',
    ],
    ids=["table", "dotted", "dotted_top", "inline"],
)
def test_connection_keys_required_first_then_optional_without_ignored(grant: str, template: str) -> None:
    got = items(template.format(g=grant))
    keys = [c for c in got if c.kind == "key"]
    required = [k for k in GRANT_ORDER[grant] if k != "grant_type"]
    assert [c.label for c in keys[: len(required)]] == required
    for c in keys[: len(required)]:
        assert c.sort_text.startswith("0") and c.detail.startswith("required")
    optional = [c.label for c in keys[len(required) :]]
    assert all(c.detail == "optional" for c in keys[len(required) :])
    expected_optional = [
        k for k in ALL_KEYS if k not in GRANT_ORDER[grant] and (k not in GRANT_ONLY or k in USED_BY[grant])
    ]
    assert sorted(optional) == sorted(expected_optional)
    assert "grant_type" not in [c.label for c in got]  # already there
    for c in keys:
        assert c.documentation == model.CONNECTION_KEYS[c.label].doc_markdown()


def test_required_detail_names_the_grant() -> None:
    got = {c.label: c for c in items('[connections.dev]\ngrant_type = "password"\n|')}
    assert got["username"].detail == "required for `password`"
    assert got["instance"].detail == "required"


def test_present_keys_are_not_offered_and_token_table_is() -> None:
    text = render("table", password_keys(), name="dev").rstrip("\n") + "\n|"
    got = items(text)
    assert [c.label for c in got] == [
        *sorted(
            [
                "otp",
                "scope",
                "client_auth",
                "timeout",
                "ca_bundle",
                "proxy",
                "client_cert",
                "client_key",
                "client_key_password",
                "token_store",
                "remember_prompts",
                "auto_refresh",
                "export",
            ]
        ),
        "token",
    ]
    token = got[-1]
    assert (token.kind, token.insert_text, token.sort_text) == ("table", 'token.${1:access_token} = "$2"', "9")


def test_no_token_item_once_the_token_exists() -> None:
    text = "[connections.dev]\n|\n[connections.dev.token]\naccess_token = 'x'\n"
    assert "token" not in labels(text)


def test_unknown_grant_offers_all_keys_with_three_required() -> None:
    got = items("[connections.dev]\n|")
    assert [c.label for c in got[:3]] == ["instance", "grant_type", "client_id"]
    assert sorted(c.label for c in got[3:] if c.kind == "key") == sorted(ALL_KEYS[3:])


@pytest.mark.parametrize(
    ("text", "start", "end", "word"),
    [
        ("[connections.dev]\ngra|", 18, 21, "gra"),
        ("[connections.dev]\n  gra|", 20, 23, "gra"),
        ("[connections.dev]\n|", 18, 18, ""),
        ("[connections]\ndev.gra|", 18, 21, "gra"),
        ('[connections]\ndev = { instance = "x", gra|', 38, 41, "gra"),
    ],
)
def test_key_replace_span_is_the_typed_word(text: str, start: int, end: int, word: str) -> None:
    got = items(text)
    a, _ = at(text)
    assert got
    for c in got:
        assert (c.start, c.end) == (start, end)
        assert a.text[c.start : c.end] == word


def test_key_snippets_and_plain_inserts() -> None:
    snip = {c.label: c for c in items("[connections.dev]\n|")}
    plain = {c.label: c for c in items("[connections.dev]\n|", snippets=False)}
    # the placeholder is the value inside the quotes: what the user types stays a string
    assert snip["instance"].insert_text == 'instance = "${1:dev12345}"'
    assert snip["client_id"].insert_text == 'client_id = "$1"'
    assert snip["client_auth"].insert_text == 'client_auth = "${1|body,basic|}"'
    assert snip["pkce"].insert_text == "pkce = ${1|true,false|}"
    assert snip["timeout"].insert_text == "timeout = ${1:30}"
    # `$` and `}` in a placeholder are escaped for the snippet syntax; the variable is
    # named as the move-to-.env quick fix names it
    assert snip["client_secret"].insert_text == 'client_secret = "${1:\\${env:SNOW_DEV_CLIENT_SECRET\\}}"'
    assert snip["password"].insert_text == 'password = "${1:\\${prompt\\}}"'
    assert snip["grant_type"].insert_text == (
        'grant_type = "${1|password,client_credentials,authorization_code,refresh_token,'
        'urn:ietf:params:oauth:grant-type:jwt-bearer,jwt_bearer|}"'
    )
    assert all(c.snippet for c in snip.values() if c.kind == "key")
    # without snippets: the pair with its example value, valid TOML to edit
    for label, c in plain.items():
        if c.kind == "key":
            example = model.CONNECTION_KEYS[label].placeholder.replace("SNOW_", "SNOW_DEV_")
            assert c.insert_text == f"{label} = {example}" and not c.snippet
    assert plain["client_secret"].insert_text == 'client_secret = "${env:SNOW_DEV_CLIENT_SECRET}"'
    assert plain["token"].insert_text == 'token.access_token = ""'


def test_inline_table_excludes_typed_keys_and_follows_typed_grant() -> None:
    got = labels('[connections]\ndev = { instance = "x", grant_type = "client_credentials", |')
    assert got[:2] == ["client_id", "client_secret"]
    assert "instance" not in got and "grant_type" not in got
    assert "username" not in got  # ignored by client_credentials


def test_inline_table_in_a_string_offers_no_keys() -> None:
    assert labels('[connections]\ndev = { scope = "a, b|" }') == []
    assert "client_id" in labels('[connections]\ndev = { scope = "it\'s", |')


# -- token keys -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "[connections.dev]\n[connections.dev.token]\n|",
        "[connections.dev]\ntoken.|",
        "[connections]\ndev.token.|",
        "connections.dev.token.|",
        '[connections]\ndev = { instance = "x", token = { | } }',
    ],
)
def test_token_keys(text: str) -> None:
    got = items(text)
    assert [c.label for c in got] == list(model.TOKEN_KEYS)
    assert [c.insert_text.split(" = ")[1] for c in got] == ['"$1"'] * 4 + ["${1:2030-01-01T00:00:00Z}"] * 2
    assert all(c.insert_text.startswith(f"{c.label} = ") for c in got)


def test_token_keys_present_are_not_offered() -> None:
    text = "[connections.dev.token]\naccess_token = 'x'\n|\nexpires_at = 2026-01-01T00:00:00Z\n"
    assert labels(text) == ["refresh_token", "token_type", "scope", "refresh_expires_at"]
    text = '[connections]\ndev = { token = { access_token = "a", | } }'
    assert "access_token" not in labels(text)


# -- top level, headers, dotted ------------------------------------------------------------


def test_top_level() -> None:
    got = items("|")
    # a table header with a name placeholder, and the cursor on the line below it
    assert [(c.label, c.kind, c.insert_text) for c in got] == [
        ("default", "key", 'default = "${1:dev}"'),
        ("connections", "table", "[connections.${1:dev}]\n$0"),
    ]
    assert labels('default = "x"\n|') == ["connections"]
    assert labels("# c\nde|") == ["default", "connections"]


@pytest.mark.parametrize(
    ("text", "start", "insert_snippet", "insert_plain"),
    [
        ("[|", 1, "connections.${1:dev}]", "connections."),
        ("[conn|", 1, "connections.${1:dev}]", "connections."),
        ("[conn|]", 1, "connections.${1:dev}", "connections."),
        ("[[conn|", 2, "connections.${1:dev}]]", "connections."),
        ("  [ conn|", 4, "connections.${1:dev}]", "connections."),
    ],
)
def test_header_completion(text: str, start: int, insert_snippet: str, insert_plain: str) -> None:
    (snip,) = items(text)
    (plain,) = items(text, snippets=False)
    _, offset = at(text)
    assert (snip.label, snip.kind, snip.filter_text) == ("connections.<name>", "table", "connections.")
    assert (snip.start, snip.end) == (start, offset)
    assert snip.insert_text == insert_snippet and snip.snippet
    assert plain.insert_text == insert_plain and not plain.snippet


def test_header_offers_token_tables_of_connections_without_one() -> None:
    text = '[connections.dev]\ninstance = "x"\n[connections."my prod"]\n[connections.done.token]\n[connections.|'
    got = items(text)
    assert [(c.label, c.insert_text) for c in got] == [
        ("connections.<name>", "connections.${1:prod}]"),
        ("connections.dev.token", "connections.dev.token]"),
        ("connections.my prod.token", 'connections."my prod".token]'),
    ]
    a, _ = at(text)
    for c in got:
        assert a.text[c.start : c.end] == "connections."


def test_dotted_connection_names() -> None:
    text = 'connections.|\n[connections.dev]\n[connections."a b"]\n'
    assert [(c.label, c.insert_text) for c in items(text)] == [("a b", '"a b".'), ("dev", "dev.")]
    assert labels("[connections]\n|\n[connections.dev]\n") == ["dev"]


def test_no_completion_in_comments_or_arrays_of_tables() -> None:
    assert items("[connections.dev]\n# gra|") == []
    assert items("[connections.dev]\nscope = 'it''s' # com|") == []
    assert items("[[connections.x]]\n|") == []
    assert items('[connections.dev]\nscope = "x" |') == []


# -- values ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("grant_type", [*model.GRANTS, "jwt_bearer"]),
        ("client_auth", ["body", "basic"]),
        ("token_store", ["file", "cache", "keyring"]),
        ("remember_prompts", ["keyring", "never"]),
        ("jwt_algorithm", ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "HS256", "HS384", "HS512"]),
    ],
)
@pytest.mark.parametrize("form", ["table", "dotted", "dotted_top", "inline"])
def test_enum_values(key: str, values: list[str], form: str) -> None:
    text = {
        "table": f"[connections.dev]\n{key} = |",
        "dotted": f"[connections]\ndev.{key} = |",
        "dotted_top": f"connections.dev.{key} = |",
        "inline": f"[connections]\ndev = {{ {key} = | }}",
    }[form]
    got = items(text)
    assert [c.label for c in got] == values
    assert [c.insert_text for c in got] == [f'"{v}"' for v in values]
    assert all(c.kind == "value" and c.detail == key for c in got)
    assert got[0].documentation == model.CONNECTION_KEYS[key].values[values[0]]  # type: ignore[index]
    fixed = accept(text, values[1])
    assert f'{key} = "{values[1]}"' in fixed


@pytest.mark.parametrize(
    ("text", "replaced", "after"),
    [
        ('[connections.dev]\nclient_auth = "ba|', '"ba', '[connections.dev]\nclient_auth = "basic"'),
        ('[connections.dev]\nclient_auth = "|"', '""', '[connections.dev]\nclient_auth = "basic"'),
        ('[connections.dev]\nclient_auth = "b|"\n', '"b"', '[connections.dev]\nclient_auth = "basic"\n'),
        ("[connections.dev]\nclient_auth = ba|", "ba", '[connections.dev]\nclient_auth = "basic"'),
    ],
)
def test_enum_value_replace_spans(text: str, replaced: str, after: str) -> None:
    a, _ = at(text)
    got = {c.label: c for c in items(text)}
    c = got["basic"]
    assert a.text[c.start : c.end] == replaced
    assert accept(text, "basic") == after


def test_boolean_values() -> None:
    got = items("[connections.dev]\npkce = |")
    assert [(c.label, c.insert_text) for c in got] == [("false", "false"), ("true", "true")]
    got = items("[connections.dev]\npkce = tr|")
    assert {(c.start, c.end) for c in got} == {(25, 27)}


def test_no_value_completion_after_a_finished_value() -> None:
    assert items("[connections.dev]\ntimeout = 3|") == []
    assert items("[connections.dev]\nscope = |") == []


def test_secret_values_offer_references() -> None:
    # whole references, quoted, the variable named as the move-to-.env quick fix names it
    got = items("[connections.dev]\npassword = |", snippets=False)
    assert [(c.label, c.insert_text) for c in got] == [
        ('"${env:…}"', '"${env:SNOW_DEV_PASSWORD}"'),
        ('"${file:…}"', '"${file:password.txt}"'),
        ('"${prompt}"', '"${prompt}"'),
    ]
    got = items('[connections.dev]\nclient_secret = "|"')
    assert [(c.label, c.insert_text, c.kind) for c in got] == [
        ("${env:…}", "\\${env:${1:SNOW_DEV_CLIENT_SECRET}\\}", "reference"),
        ("${file:…}", "\\${file:${1:client_secret.txt}\\}", "reference"),
        ("${prompt}", "\\${prompt\\}", "reference"),
    ]
    # a non-secret string offers references only once `$` is typed
    assert items('[connections.dev]\nscope = "|"') == []
    assert len(items('[connections.dev]\nscope = "$|"')) == 3


def test_env_names_from_environment_and_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FROM_DOTENV=1\nSNOW_A=shadowed\n")
    env = Environment({"SNOW_A": "1", "HOME": "/root"}, tmp_path)
    got = items('[connections.dev]\npassword = "${env:|', env=env)
    # the string was not closed: the name closes the reference and the string
    assert [(c.label, c.detail, c.insert_text) for c in got] == [
        ("SNOW_A", "environment variable", 'SNOW_A}"'),
        ("FROM_DOTENV", "from .env", 'FROM_DOTENV}"'),
        ("HOME", "environment variable", 'HOME}"'),
    ]
    assert all(c.kind == "variable" for c in got)


@pytest.mark.parametrize(
    ("text", "typed", "close"),
    [
        ('[connections.dev]\npassword = "${env:SN|', "SN", '}"'),
        ('[connections.dev]\npassword = "${env:SN|}"', "SN", ""),
        ('[connections]\ndev.password = "${env:|"', "", "}"),
        ('connections.dev.password = "${env:|"', "", "}"),
        ('[connections]\ndev = { password = "${env:S|" }', "S", "}"),
    ],
)
def test_env_name_replace_span(text: str, typed: str, close: str) -> None:
    _, offset = at(text)
    got = items(text)
    assert {c.label for c in got} == {"SNOW_A", "HOME", "SNOW_DEV_PASSWORD"}
    for c in got:
        assert (c.start, c.end) == (offset - len(typed), offset)
        assert c.insert_text == c.label + close
    # variables of this connection come first
    assert got[0].label in ("SNOW_A", "SNOW_DEV_PASSWORD")
    assert got[-1].label == "HOME"


def test_default_offers_connection_names() -> None:
    text = "default = |\n[connections.dev]\n[connections.prod]\n"
    assert [(c.label, c.insert_text) for c in items(text)] == [('"dev"', '"dev"'), ('"prod"', '"prod"')]
    assert accept('default = "|"\n[connections.dev]\n', '"dev"') == 'default = "dev"\n[connections.dev]\n'
    assert accept('default = "d|\n[connections.dev]\n', '"dev"') == 'default = "dev"\n[connections.dev]\n'


def test_table_at() -> None:
    a = run("a = 1\n[connections.dev]\nx = 1\n[[arr]]\ny = 1\n")
    assert table_at(a, 0) == ()
    assert table_at(a, 6) == ()  # on the header line itself
    assert table_at(a, a.text.index("x")) == ("connections", "dev")
    assert table_at(a, a.text.index("y")) is None


# -- hover -----------------------------------------------------------------------------------


def hover_at(text: str, target: str, nth: int = 0, now: object = NOW):  # type: ignore[no-untyped-def]
    a = run(text)
    i = -1
    for _ in range(nth + 1):
        i = text.index(target, i + 1)
    return a, hover(a, i + len(target) // 2, now)  # type: ignore[arg-type]


FULL = {
    "instance": '"dev12345"',
    "grant_type": '"password"',
    "client_id": f'"{HEX32}"',
    "client_secret": '"${env:SNOW_SECRET}"',
    "client": '"none-known"',  # not "servicenow-sdk": the connection stays a password one
    "username": '"u"',
    "password": '"${env:SNOW_PW}"',
    "otp": '"${prompt}"',
    "refresh_token": '"${prompt}"',
    "redirect_uri": '"http://127.0.0.1:1/cb"',
    "pkce": "true",
    "jwt_key_file": '"k.pem"',
    "jwt_subject": '"s"',
    "jwt_key_id": '"kid"',
    "jwt_algorithm": '"RS256"',
    "jwt_shared_secret": '"${env:SNOW_JWT_KEY}"',
    "jwt_audience": '"aud"',
    "scope": '"useraccount"',
    "client_auth": '"body"',
    "timeout": "30",
    "ca_bundle": '"ca.pem"',
    "proxy": '"http://proxy.corp:3128"',
    "client_cert": '"client.pem"',
    "client_key": '"client-key.pem"',
    "client_key_password": '"${env:SNOW_PW}"',
    "token_store": '"file"',
    "remember_prompts": '"keyring"',
    "auto_refresh": "true",
}
TOKEN_VALUES = {
    "access_token": '"AT-SECRET-VALUE"',
    "refresh_token": '"RT-SECRET-VALUE"',
    "token_type": '"Bearer"',
    "scope": '"useraccount admin"',
    "expires_at": "2026-11-28T10:23:00Z",
    "refresh_expires_at": "2026-11-20T10:00:00Z",
}


def test_every_key_has_docs_in_the_model() -> None:
    assert set(FULL) == set(model.CONNECTION_KEYS)
    assert set(TOKEN_VALUES) == set(model.TOKEN_KEYS)
    for spec in [*model.CONNECTION_KEYS.values(), *model.TOKEN_KEYS.values()]:
        assert spec.summary


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("key", list(model.CONNECTION_KEYS))
def test_hover_on_every_connection_key(form: str, key: str) -> None:
    text = render(form, list(FULL.items()), list(TOKEN_VALUES.items()))
    a = run(text)
    key_span, _ = find_kv(text, key, FULL[key])
    h = hover(a, key_span[0] + 1, NOW)
    assert h is not None
    assert (h.start, h.end) == key_span
    spec = model.CONNECTION_KEYS[key]
    assert h.markdown.startswith(f"**{key}** ({spec.type})")
    assert spec.summary in h.markdown
    if spec.where:
        assert f"*In ServiceNow:* {spec.where}" in h.markdown
    if key in ("username", "password"):
        assert "Required for this connection's grant (`password`)." in h.markdown
    if key in ("client_auth", "redirect_uri"):
        assert "Required" not in h.markdown


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("key", list(model.TOKEN_KEYS))
def test_hover_on_every_token_key(form: str, key: str) -> None:
    text = render(form, password_keys(), list(TOKEN_VALUES.items()))
    a = run(text)
    key_span, value_span = find_kv(text, key, TOKEN_VALUES[key])
    h = hover(a, key_span[0], NOW)
    assert h is not None and (h.start, h.end) == key_span
    assert h.markdown.startswith(f"**{key}**")
    assert model.TOKEN_KEYS[key].summary in h.markdown
    for secret in ("AT-SECRET-VALUE", "RT-SECRET-VALUE"):
        assert secret not in h.markdown
    if key == "expires_at":
        assert h.markdown.endswith("Expires in 23 min (2026-11-28 10:23:00 UTC)")
    if key == "refresh_expires_at":
        assert h.markdown.endswith("Expired 8 days ago (2026-11-20 10:00:00 UTC)")
    # on the value: expiry for the dates, nothing for the tokens (never the token itself)
    hv = hover(a, value_span[0] + 1, NOW)
    if key in ("expires_at", "refresh_expires_at"):
        assert hv is not None and (hv.start, hv.end) == value_span
        assert hv.markdown.startswith(("Expires in", "Expired"))
    else:
        assert hv is None


@pytest.mark.parametrize(
    ("expires", "now_delta", "says"),
    [
        ("2026-11-28T10:00:30Z", 0, "Expires in 30 s"),
        ("2026-11-28T10:59:59Z", 0, "Expires in 59 min"),
        ("2026-11-28T13:00:00Z", 0, "Expires in 3 h"),
        ("2026-11-29T23:00:00Z", 0, "Expires in 37 h"),
        ("2026-12-08T10:00:00Z", 0, "Expires in 10 days"),
        ("2026-11-28T09:59:00Z", 0, "Expired 1 min ago"),
        ("2026-11-28T10:00:00Z", 0, "Expired 0 s ago"),
        ("2026-11-28T10:00:00Z", -3600, "Expires in 1 h"),
        ("2026-11-28T10:00:00", 0, "A local date-time: write it in UTC with `Z`."),
    ],
)
def test_hover_on_expiry_with_injected_now(expires: str, now_delta: int, says: str) -> None:
    text = f"[connections.dev.token]\nexpires_at = {expires}\n"
    a = run(text)
    h = hover(a, text.index(expires) + 2, NOW + timedelta(seconds=now_delta))
    assert h is not None
    assert h.markdown.startswith(says), h.markdown


def test_hover_on_connections_connection_name_token_and_default() -> None:
    text = (
        'default = "dev"\n'
        "[connections.dev]\n" + "\n".join(f"{k} = {v}" for k, v in password_keys()) + "\n"
        "[connections.dev.token]\naccess_token = 'AT-SECRET-VALUE'\nexpires_at = 2026-11-28T10:23:00Z\n"
    )
    a = run(text)
    h = hover(a, text.index("connections") + 3, NOW)
    assert h is not None and h.markdown == model.CONNECTIONS_DOC
    h = hover(a, text.index("dev]") + 1, NOW)
    assert h is not None and text[h.start : h.end] == "dev"
    assert "**Connection `dev`**" in h.markdown
    assert "Instance: `dev12345`" in h.markdown
    assert "Grant: `password`" in h.markdown
    assert "Expires in 23 min" in h.markdown
    assert "AT-SECRET-VALUE" not in h.markdown
    h = hover(a, text.index(".token]") + 2, NOW)
    assert h is not None and h.markdown.startswith(model.TOKEN_TABLE_DOC)
    assert "Expires in 23 min" in h.markdown
    h = hover(a, 2, NOW)
    assert h is not None and h.markdown == model.TOP_KEYS["default"].doc_markdown()


def test_hover_on_connection_name_in_other_forms() -> None:
    for form in ("dotted", "inline", "dotted_top"):
        text = render(form, password_keys())
        a = run(text)
        i = text.index("dev.") if form != "inline" else text.index("dev =")
        h = hover(a, i + 1, NOW)
        assert h is not None and "**Connection `dev`**" in h.markdown, form
        assert "No token stored." in h.markdown


@pytest.mark.parametrize(
    ("key", "value", "doc"),
    [
        ("grant_type", "password", model.GRANT_DOCS["password"]),
        ("grant_type", "jwt_bearer", "Short alias of the JWT bearer grant."),
        ("client_auth", "basic", model.CLIENT_AUTH_VALUES["basic"]),
        ("token_store", "cache", model.TOKEN_STORE_VALUES["cache"]),
        ("jwt_algorithm", "ES384", model.JWT_ALGORITHMS["ES384"]),
    ],
)
@pytest.mark.parametrize("form", FORMS)
def test_hover_on_enum_values(key: str, value: str, doc: str, form: str) -> None:
    text = render(form, [(key, f'"{value}"')])
    a = run(text)
    i = text.index(f'"{value}"')
    h = hover(a, i + 2, NOW)
    assert h is not None
    assert (h.start, h.end) == (i, i + len(value) + 2)
    assert h.markdown == f"**{value}** — {doc}"


def test_hover_on_other_values_and_outside_is_nothing() -> None:
    text = '# c\n[connections.dev]\nscope = "x"\nwhatever = 1\n\n'
    a = run(text)
    assert hover(a, text.index('"x"') + 1, NOW) is None
    assert hover(a, 1, NOW) is None
    assert hover(a, len(text), NOW) is None
    assert hover(a, text.index("whatever") + 1, NOW) is None


def test_hover_never_shows_a_secret_value() -> None:
    text = render("table", password_keys(password='"hunter2"', client_secret='"s3cr3t"'))
    text += '[connections.dev.token]\naccess_token = "AT"\nrefresh_token = "RT"\n'
    a = run(text)
    for off in range(len(text) + 1):
        h = hover(a, off, NOW)
        if h is not None:
            for secret in ("hunter2", "s3cr3t", '"AT"', '"RT"'):
                assert secret not in h.markdown


# -- symbols and lenses ---------------------------------------------------------------------


@pytest.mark.parametrize("form", FORMS)
def test_symbols(form: str) -> None:
    keys = grant_keys("client_credentials")
    token = [("access_token", '"a"'), ("expires_at", "2026-11-28T10:23:00Z")]
    text = 'default = "dev"\n' + render(form, keys, token)
    a = run(text)
    (sym,) = symbols(a)
    assert (sym.name, sym.kind) == ("dev", "connection")
    assert sym.detail == "client_credentials · dev12345"
    assert (sym.selection_start, sym.selection_end) == header_span(form, text, keys)
    assert sym.start <= sym.selection_start <= sym.selection_end <= sym.end
    assert [c.name for c in sym.children] == [k for k, _ in keys] + ["token"]
    for child in sym.children:
        assert sym.start <= child.start <= child.selection_start
        assert child.selection_end <= child.end <= sym.end
    for child, (k, v) in zip(sym.children, keys, strict=False):
        assert text[child.selection_start : child.selection_end] == k
        assert text[child.start : child.end].endswith(f"{k} = {v}")
    tok = sym.children[-1]
    assert tok.kind == "table"
    assert [c.name for c in tok.children] == ["access_token", "expires_at"]
    for c in tok.children:
        assert tok.start <= c.start and c.end <= tok.end
    assert tok.start <= tok.selection_start <= tok.selection_end <= tok.end


def test_symbols_of_several_connections_and_none() -> None:
    text = render("table", password_keys()) + render("table", password_keys(), name="prod")
    assert [s.name for s in symbols(run(text))] == ["dev", "prod"]
    assert symbols(run("# nothing\n")) == []


@pytest.mark.parametrize("form", FORMS)
def test_lenses_on_the_header(form: str) -> None:
    keys = password_keys()
    token = [("access_token", '"a"'), ("refresh_token", '"r"'), ("expires_at", "2026-11-28T10:23:00Z")]
    text = render(form, keys, token)
    a = run(text)
    (lens,) = lenses(a)
    assert (lens.start, lens.end) == header_span(form, text, keys)
    assert lens.connection == "dev"
    assert lens.has_token and lens.has_refresh_token
    assert lens.expires_at is not None and lens.expires_at.isoformat() == "2026-11-28T10:23:00+00:00"
    assert lens_state_title(lens, NOW) == "expires in 23 min"


@pytest.mark.parametrize(
    ("has_token", "expires", "title"),
    [
        (False, None, "no token"),
        (True, None, "token stored"),
        (True, timedelta(seconds=45), "expires in 45 s"),
        (True, timedelta(minutes=23, seconds=10), "expires in 23 min"),
        (True, timedelta(hours=5), "expires in 5 h"),
        (True, timedelta(hours=47), "expires in 47 h"),
        (True, timedelta(days=3, hours=1), "expires in 3 days"),
        (True, timedelta(0), "expired 0 s ago"),
        (True, -timedelta(minutes=2), "expired 2 min ago"),
        (True, -timedelta(hours=3), "expired 3 h ago"),
        (True, -timedelta(days=9), "expired 9 days ago"),
    ],
)
def test_lens_state_title(has_token: bool, expires: timedelta | None, title: str) -> None:
    info = LensInfo("dev", 0, 1, None if expires is None else NOW + expires, has_token, False)
    assert lens_state_title(info, NOW) == title


def test_lens_without_token_and_with_local_time() -> None:
    a = run("[connections.dev]\n[connections.dev.token]\naccess_token = 'a'\nexpires_at = 2026-11-28T10:23:00\n")
    (lens,) = lenses(a)
    assert lens.expires_at is None and lens.has_token
    assert lens_state_title(lens, NOW) == "token stored"
    (lens,) = lenses(run("[connections.dev]\n"))
    assert not lens.has_token and lens_state_title(lens, NOW) == "no token"


def test_completion_edits_keep_the_file_parseable() -> None:
    text = '[connections.dev]\ngrant_type = "client_credentials"\n|'
    for c in items(text, snippets=False):
        fixed = accept(text, c.label)
        assert not [f for f in run(fixed).findings if f.code == "toml-syntax"], fixed
    assert apply_edits("ab", []) == "ab"


# -- completion writes what the user means -----------------------------------------------------


def expand_typing(snippet: str, typed: str) -> str:
    """``snippet`` as an editor expands it with ``typed`` in place of tab stop 1 (its
    default or its choice), the other stops at their defaults and `$0` empty."""
    first = re.search(r"\$\{1(?::((?:[^}\\]|\\.)*)|\|[^}]*\|)\}|\$1(?!\d)", snippet)
    rest = snippet if first is None else snippet[: first.start()] + "\0" + snippet[first.end() :]
    rest = re.sub(r"\$\{\d+:((?:[^}\\]|\\.)*)\}", r"\1", rest)
    rest = re.sub(r"\$\{?\d+\}?", "", rest)
    assert not re.search(r"(?<!\\)\$", rest), f"a `$` not escaped in {snippet!r}"
    return re.sub(r"\\([\\$}])", r"\1", rest).replace("\0", typed)


VALUE_KEYS = [k for k, s in model.CONNECTION_KEYS.items() if s.type == "string" and not s.values]


@pytest.mark.parametrize("key", VALUE_KEYS)
@pytest.mark.parametrize("typed", ["https://dev1.service-now.com", "my value", "it's"])
def test_value_placeholder_is_inside_the_quotes(key: str, typed: str) -> None:
    (c,) = [c for c in items("[connections.dev]\n|") if c.label == key]
    snippet = c.insert_text.removeprefix(f"{key} = ")
    assert snippet.startswith('"$') and snippet.endswith('"'), snippet  # the quotes stay outside
    text = "[connections.dev]\n" + expand_typing(c.insert_text, typed) + "\n"
    assert tomllib.loads(text)["connections"]["dev"][key] == typed


def test_default_placeholder_is_inside_the_quotes_and_names_a_connection() -> None:
    assert items("|")[0].insert_text == 'default = "${1:dev}"'
    (c,) = [c for c in items('|\n[connections."prod eu"]\n') if c.label == "default"]
    assert c.insert_text == 'default = "${1:prod eu}"'
    assert tomllib.loads(expand_typing(c.insert_text, "my-app"))["default"] == "my-app"


@pytest.mark.parametrize(("key", "typed", "value"), [("pkce", "false", False), ("timeout", "45", 45)])
def test_boolean_and_number_snippets_have_no_quotes(key: str, typed: str, value: object) -> None:
    (c,) = [c for c in items('[connections.dev]\ngrant_type = "authorization_code"\n|') if c.label == key]
    assert '"' not in c.insert_text
    assert (
        tomllib.loads("[connections.dev]\n" + expand_typing(c.insert_text, typed))["connections"]["dev"][key] == value
    )


@pytest.mark.parametrize(("key", "grant"), [("client_secret", "password"), ("refresh_token", "refresh_token")])
def test_secret_defaults_name_variables_as_the_quick_fix(key: str, grant: str) -> None:
    head = f'[connections."my-app eu"]\ngrant_type = "{grant}"\n'
    (c,) = [c for c in items(head + "|") if c.label == key]
    var = "SNOW_MY_APP_EU_" + key.upper()
    # `$` and `}` of the default are escaped: the editor shows them, it does not expand them
    assert c.insert_text == f'{key} = "${{1:\\${{env:{var}\\}}}}"'
    assert tomllib.loads(head + expand_typing(c.insert_text, "${env:" + var + "}"))
    # the quick fix that moves a literal secret to .env names the same variable
    literal = run(head + f'{key} = "s3cret"\n')
    (fix,) = [fx for f in literal.findings for fx in f.fixes if fx.title.startswith(f"Move `{key}`")]
    assert fix.edits[0].text == f'"${{env:{var}}}"'
    (plain,) = [c for c in items(head + "|", snippets=False) if c.label == key]
    assert plain.insert_text == f"{key} = {fix.edits[0].text}"
    # and so do the references offered as a value
    refs = {r.label: r.insert_text for r in items(head + f"{key} = |", snippets=False)}
    assert refs['"${env:…}"'] == fix.edits[0].text
    refs = {r.label: r.insert_text for r in items(head + f'{key} = "|"')}
    assert refs["${env:…}"] == f"\\${{env:${{1:{var}}}\\}}"


def test_password_default_is_an_escaped_prompt() -> None:
    (c,) = [c for c in items('[connections.dev]\ngrant_type = "password"\n|') if c.label == "password"]
    assert c.insert_text == 'password = "${1:\\${prompt\\}}"'
    assert tomllib.loads(expand_typing(c.insert_text, "${prompt}")) == {"password": "${prompt}"}


def test_plain_text_clients_get_whole_valid_pairs() -> None:
    for text in ("|", "[connections.dev]\n|", '[connections.dev]\ngrant_type = "password"\n|'):
        for c in items(text, snippets=False):
            assert not c.snippet
            done = accept(text, c.label)
            tomllib.loads(done)  # valid as inserted: the user edits the example value


def test_connections_on_an_empty_file_is_a_table_header_with_a_name() -> None:
    (c,) = [c for c in items("conn|") if c.label == "connections"]
    assert (c.insert_text, c.snippet, c.start, c.end) == ("[connections.${1:dev}]\n$0", True, 0, 4)
    assert tomllib.loads(expand_typing(c.insert_text, "my-dev")) == {"connections": {"my-dev": {}}}
    assert accept("conn|", "connections") == "[connections.dev]\n"
    # with a connection `dev` the name suggested is another one
    (c,) = [c for c in items("|\n[connections.dev]\n") if c.label == "connections"]
    assert c.insert_text.startswith("[connections.${1:prod}]")
    # file-level keys below the cursor would fall into a new table: a dotted key then
    (c,) = [c for c in items('|\ndefault = "dev"\n') if c.label == "connections"]
    assert c.insert_text == 'connections.${1:dev}.instance = "${2:dev12345}"'
    done = expand_typing(c.insert_text, "qa") + '\ndefault = "dev"\n'
    assert tomllib.loads(done) == {"connections": {"qa": {"instance": "dev12345"}}, "default": "dev"}


@pytest.mark.parametrize(
    ("text", "replaced"),
    [
        ("[connections.d|", "connections.d"),
        ("[connections.dev|", "connections.dev"),
        ("[connections.dev|]", "connections.dev]"),
        ("[connections.dev|]\n[connections.prod]\n", "connections.dev]"),
        ("[ connections . dev|  ]  # c", "connections . dev  ]"),
        ('[connections."my d|', 'connections."my d'),
    ],
)
def test_typing_a_header_name_offers_closing_it_first(text: str, replaced: str) -> None:
    got = items(text)
    a, offset = at(text)
    first = got[0]
    assert first.preselect and first.incomplete and first.kind == "table"
    assert re.fullmatch(r'\[connections\.(dev|d|"my d")\]', first.label), first.label
    assert a.text[first.start : first.end] == replaced
    assert a.text[first.start : offset] == first.filter_text  # stays on screen as typed
    done = a.text[: first.start] + first.insert_text + a.text[first.end :]
    (name,) = tomllib.loads(done)["connections"].keys() - {"prod"}
    assert done.startswith(a.text[:offset]) and name in first.label
    # `.token` comes later, labelled, and never alone
    tokens = [c for c in got if c.label.endswith(".token")]
    assert all(c.sort_text > first.sort_text and "written by Fetch token" in c.detail for c in tokens)
    assert all(c.incomplete for c in got)


def test_header_name_typed_keeps_the_token_table_of_that_name_as_a_later_choice() -> None:
    got = items("[connections.dev|]")
    assert [c.label for c in got] == ["[connections.dev]", "connections.dev.token"]
    assert got[1].detail == "token table of 'dev' — written by Fetch token"
    a, _ = at("[connections.dev|]")
    assert a.text[: got[1].start] + got[1].insert_text + a.text[got[1].end :] == "[connections.dev.token]"
    # after `[connections.dev.` the token table comes first
    got = items("[connections.dev]\n[connections.dev.|")
    assert got[0].label == "connections.dev.token" and got[0].insert_text == "connections.dev.token]"


def test_every_completion_typed_into_parses() -> None:
    contexts = [
        "|",
        "[connections.dev]\n|",
        *(f'[connections.dev]\ngrant_type = "{g}"\n|' for g in model.GRANTS),
        "[connections.dev.token]\n|",
        *(f"[connections.dev]\n{k} = |" for k in model.CONNECTION_KEYS),
        *(f'[connections.dev]\n{k} = "|"' for k in model.CONNECTION_KEYS),
        *(f'[connections.dev]\n{k} = "|' for k in model.CONNECTION_KEYS),
        '[connections.dev]\npassword = "${env:SN|',
        "[|]",
        "[connections.de|",
    ]
    checked = 0
    for text in contexts:
        a, _ = at(text)
        for c in items(text):
            inserted = c.insert_text
            if c.snippet:
                stop = re.search(r"\$\{1(:[^}]*)?\}", inserted)
                in_string = stop is not None and (a.text[: c.start] + inserted[: stop.start()]).count('"') % 2 == 1
                typed = "https://dev1.service-now.com" if in_string else "my-value"
                if "${1|" in inserted:
                    typed = re.search(r"\$\{1\|([^,|]*)", inserted).group(1)  # type: ignore[union-attr]
                elif re.search(r"\$\{1:\d", inserted):
                    typed = "2031-01-01T00:00:00Z" if re.search(r"\$\{1:\d{4}-", inserted) else "45"
                inserted = expand_typing(inserted, typed)
            done = a.text[: c.start] + inserted + a.text[c.end :]
            assert not [f for f in run(done).findings if f.code == "toml-syntax"], (text, c.label, done)
            tomllib.loads(done)
            checked += 1
    assert checked > 150


def test_a_shared_key_algorithm_asks_for_jwt_shared_secret_first() -> None:
    got = items('[connections.dev]\ngrant_type = "jwt_bearer"\njwt_algorithm = "HS512"\n|\n')
    required = [c.label for c in got if c.kind == "key" and c.detail.startswith("required")]
    assert required == ["instance", "client_id", "jwt_shared_secret", "jwt_subject"]
    assert "jwt_key_file" in [c.label for c in got if c.kind == "key" and c.detail == "optional"]


@pytest.mark.parametrize(
    "left",
    [
        -10 * 86400 - 5,
        -7200,
        -61,
        -1,
        0,
        1,
        59,
        60,
        61,
        3599,
        3600,
        3601,
        2 * 86400 - 1,
        2 * 86400,
        3 * 86400 + 7,
        26329 * 86400 + 5,
    ],
)
def test_a_lens_title_reads_the_same_until_titles_until_and_then_changes(left: int) -> None:
    expires = NOW + timedelta(seconds=left)
    info = LensInfo("dev", 0, 1, expires, True, True)
    until = titles_until(info, NOW)
    assert until is not None and until >= NOW  # NOW itself: the wording changes right after it
    title = lens_state_title(info, NOW)
    for later in (NOW + (until - NOW) / 2, max(NOW, until - timedelta(microseconds=1))):
        assert lens_state_title(info, later) == title
    assert lens_state_title(info, until + timedelta(seconds=1)) != title


def test_a_lens_without_a_time_in_its_title_needs_no_retitling() -> None:
    assert titles_until(LensInfo("dev", 0, 1, None, True, False), NOW) is None
    assert titles_until(LensInfo("dev", 0, 1, NOW, False, False), NOW) is None
    assert titles_until(LensInfo("dev", 0, 1, NOW, True, False, needs_client=True), NOW) is None
