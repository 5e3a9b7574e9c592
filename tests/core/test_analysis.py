"""analysis.analyze: every diagnostic code, in every TOML form a connection can take, with
exact spans, severities, messages and quick fixes that really fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from snowauth.findings import ERROR, HINT, INFORMATION, TAG_UNNECESSARY, WARNING, Finding
from snowauth.positions import LineIndex
from tests.kit.analysis import (
    FORMS,
    HEX32,
    apply_edits,
    assert_spans_in_range,
    codes,
    environment,
    expected_span,
    find_kv,
    grant_keys,
    having,
    header_span,
    lc,
    one,
    password_keys,
    render,
    run,
    span_lc,
)
from tests.kit.clock import NOW

JWT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ALL_GRANTS = (
    "password",
    "refresh_token",
    "client_credentials",
    "authorization_code",
    JWT,
    "jwt_bearer",
)

# the required keys per grant as docs/reference.md states them, written out by hand
# (not derived from model.required_keys)
REQUIRED = {
    "password": ["instance", "grant_type", "client_id", "client_secret", "username", "password"],
    "refresh_token": ["instance", "grant_type", "client_id", "refresh_token"],
    "client_credentials": ["instance", "grant_type", "client_id", "client_secret"],
    "authorization_code": ["instance", "grant_type", "client_id", "redirect_uri"],
    # no client_secret: a public JWT client has none (docs/servicenow.md "Scopes and JWT")
    JWT: ["instance", "grant_type", "client_id", "jwt_key_file", "jwt_subject"],
    "jwt_bearer": [
        "instance",
        "grant_type",
        "client_id",
        "jwt_key_file",
        "jwt_subject",
    ],
}

TOML_ERRORS = {"toml-syntax", "duplicate-key", "duplicate-table", "duplicate-connection"}


def fix_removes(text: str, finding: Finding, form: str = "") -> str:
    """Apply each text-edit fix of ``finding``; the re-analysis must not have it any more
    nor any new TOML error. Returns the text after the first fix."""
    assert finding.fixes, finding
    before = run(text)
    before_toml = sum(1 for f in before.findings if f.code in TOML_ERRORS)
    first = ""
    for fix in finding.fixes:
        if not fix.edits:
            continue
        fixed = apply_edits(text, fix.edits)
        after = run(fixed)
        assert (finding.code, finding.message) not in [(f.code, f.message) for f in after.findings], (
            form,
            fix.title,
            fixed,
        )
        after_toml = [f for f in after.findings if f.code in TOML_ERRORS]
        assert len(after_toml) <= before_toml, (form, fix.title, fixed, after_toml)
        first = first or fixed
    return first


# -- a clean file has nothing to say -----------------------------------------------------


@pytest.mark.parametrize("grant", ALL_GRANTS)
@pytest.mark.parametrize("form", FORMS)
def test_complete_connection_is_clean(form: str, grant: str) -> None:
    text = render(form, grant_keys(grant))
    a = run(text)
    assert a.findings == [], [(f.code, f.message) for f in a.findings]
    assert list(a.connections) == ["dev"]
    assert set(a.connections["dev"].keys) == {k for k, _ in grant_keys(grant)}


def test_spec_example_file_is_clean() -> None:
    text = (
        'default = "dev"                       # optional\n'
        "\n"
        "[connections.dev]\n"
        'instance = "dev12345"                 # bare name\n'
        'grant_type = "password"\n'
        f'client_id = "{HEX32}"\n'
        'client_secret = "${env:SNOW_SECRET}"\n'
        'username = "integration.user"\n'
        'password = "${env:SNOW_PW}"\n'
        'scope = "useraccount"                 # optional\n'
        "\n"
        "[connections.dev.token]               # written by Fetch token\n"
        'access_token = "eyJ0eXAi..."\n'
        'refresh_token = "rt-..."\n'
        'token_type = "Bearer"\n'
        'scope = "useraccount"\n'
        "expires_at = 2026-11-28T10:29:59Z     # TOML offset date-time, UTC\n"
        "refresh_expires_at = 2027-03-08T09:59:59Z\n"
    )
    a = run(text)
    assert a.findings == []
    c = a.connections["dev"]
    assert set(c.token) == {
        "access_token",
        "refresh_token",
        "token_type",
        "scope",
        "expires_at",
        "refresh_expires_at",
    }


# -- missing keys: one per key, on the header, per grant --------------------------------


MISSING_CASES = [(g, k) for g in ALL_GRANTS for k in REQUIRED[g]]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("grant", "key"), MISSING_CASES, ids=[f"{g}-{k}" for g, k in MISSING_CASES])
def test_missing_key_on_header_with_fix(form: str, grant: str, key: str) -> None:
    keys = grant_keys(grant, **{key: None})
    text = render(form, keys)
    a = run(text)
    missing = having(a, "missing-key")
    assert len(missing) == 1, [(f.code, f.message) for f in a.findings]
    f = missing[0]
    assert f.severity == ERROR
    assert f.connection == "dev"
    assert f"`{key}`" in f.message and "`dev`" in f.message
    start, end = header_span(form, text, keys)
    assert span_lc(a, f) == expected_span(text, start, end)
    assert (f.start, f.end) == (start, end)
    # nothing else is reported (removing grant_type makes no key "ignored")
    assert codes(a) == ["missing-key"], [(f.code, f.message) for f in a.findings]
    fixed = fix_removes(text, f, form)
    assert f"{key} = " in fixed
    if key != "grant_type":  # the grant_type placeholder is "password": other needs
        assert having(run(fixed), "missing-key") == []


@pytest.mark.parametrize("form", FORMS)
def test_missing_key_message_names_the_grant(form: str) -> None:
    keys = grant_keys(JWT, jwt_subject=None)
    a = run(render(form, keys))
    f = one(a, "missing-key")
    assert "`jwt_subject`" in f.message and "JWT bearer" in f.message
    a = run(render(form, grant_keys("refresh_token", refresh_token=None)))
    f = one(a, "missing-key")
    assert "`refresh_token` grant" in f.message


@pytest.mark.parametrize("form", FORMS)
def test_jwt_bearer_needs_no_client_secret(form: str) -> None:
    a = run(render(form, grant_keys(JWT, client_secret=None)))
    assert a.findings == [], [(f.code, f.message) for f in a.findings]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512"])
def test_a_shared_key_algorithm_needs_jwt_shared_secret_not_a_key_file(form: str, alg: str) -> None:
    keys = [*grant_keys(JWT, jwt_key_file=None), ("jwt_algorithm", f'"{alg}"')]
    f = one(run(render(form, keys)), "missing-key")
    assert "`jwt_shared_secret`" in f.message and "JWT bearer" in f.message
    fixed = fix_removes(render(form, keys), f, form)
    assert "jwt_shared_secret = " in fixed
    keys.append(("jwt_shared_secret", '"${env:SNOW_SECRET}"'))
    assert run(render(form, keys)).findings == []


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(("pkce", "secret_required"), [(None, False), ("true", False), ("false", True)])
def test_authorization_code_client_secret_follows_pkce(form: str, pkce: str | None, secret_required: bool) -> None:
    keys = grant_keys("authorization_code", client_secret=None)
    if pkce is not None:
        keys.append(("pkce", pkce))
    text = render(form, keys)
    a = run(text)
    missing = having(a, "missing-key")
    if secret_required:
        assert [f.message for f in missing] == [
            "The connection `dev` is missing `client_secret` (required for the `authorization_code` grant)"
        ]
        fix_removes(text, missing[0], form)
    else:
        assert missing == []
        assert a.findings == []


@pytest.mark.parametrize("form", FORMS)
def test_one_missing_key_diagnostic_per_key_in_required_order(form: str) -> None:
    keys = [("grant_type", '"password"'), ("scope", '"useraccount"')]
    text = render(form, keys)
    a = run(text)
    missing = having(a, "missing-key")
    named = [f.message.split("missing `")[1].split("`")[0] for f in missing]
    assert named == ["instance", "client_id", "client_secret", "username", "password"]
    start, end = header_span(form, text, keys)
    assert {(f.start, f.end) for f in missing} == {(start, end)}
    # fixing them one after the other converges on a file without missing keys
    for _ in range(10):
        missing = having(run(text), "missing-key")
        if not missing:
            break
        text = apply_edits(text, missing[0].fixes[0].edits)
    a = run(text)
    assert having(a, "missing-key") == []
    assert not [f for f in a.findings if f.code in TOML_ERRORS], text
    assert set(a.connections["dev"].keys) >= set(REQUIRED["password"])


@pytest.mark.parametrize(
    ("text", "header"),
    [
        ("[connections.dev]\n", "[connections.dev]"),
        ("[connections.dev]", "[connections.dev]"),
        ("[connections]\ndev = {}\n", "dev"),
        ("[ connections . dev ]  # spaced\n", "[ connections . dev ]"),
        ('[connections."my dev"]\n', '[connections."my dev"]'),
        ("# c\n\n[connections.dev]\n# only a comment\n", "[connections.dev]"),
    ],
)
def test_empty_connection_misses_the_three_common_keys(text: str, header: str) -> None:
    a = run(text)
    missing = having(a, "missing-key")
    assert [f.message.split("missing `")[1].split("`")[0] for f in missing] == [
        "instance",
        "grant_type",
        "client_id",
    ]
    start = text.index(header)
    for f in missing:
        assert (f.start, f.end) == (start, start + len(header))
        assert f.message.endswith("(required)")
        fixed = fix_removes(text, f)
        assert not [g for g in run(fixed).findings if g.code == "toml-syntax"], fixed
    assert [f.code for f in a.findings] == ["missing-key"] * 3


def test_missing_key_fix_after_the_last_key_line_keeps_the_token_table() -> None:
    text = (
        "[connections.dev]\n"
        'instance = "dev12345"\n'
        'grant_type = "client_credentials"\n'
        f'client_id = "{HEX32}"\n'
        "\n"
        "[connections.dev.token]\n"
        'access_token = "x"\n'
    )
    f = one(run(text), "missing-key")
    fixed = apply_edits(text, f.fixes[0].edits)
    assert fixed == text.replace(
        f'client_id = "{HEX32}"\n',
        f'client_id = "{HEX32}"\nclient_secret = "${{env:SNOW_DEV_CLIENT_SECRET}}"\n',
    )


def test_missing_key_fix_on_a_file_without_final_newline() -> None:
    text = '[connections.dev]\ninstance = "dev12345"\ngrant_type = "client_credentials"'
    a = run(text)
    fix = next(f for f in having(a, "missing-key") if "`client_id`" in f.message).fixes[0]
    fixed = apply_edits(text, fix.edits)
    assert fixed == text + '\nclient_id = ""\n'


def test_missing_key_fix_keeps_crlf() -> None:
    text = '[connections.dev]\r\ninstance = "dev12345"\r\ngrant_type = "client_credentials"\r\n'
    a = run(text)
    fix = next(f for f in having(a, "missing-key") if "`client_id`" in f.message).fixes[0]
    fixed = apply_edits(text, fix.edits)
    assert fixed == text + 'client_id = ""\r\n'
    assert "\n" not in fixed.replace("\r\n", "")


def test_missing_key_fix_keeps_lone_cr() -> None:
    text = '[connections.dev]\rinstance = "dev12345"\rgrant_type = "client_credentials"\r'
    a = run(text)
    f = next(f for f in having(a, "missing-key") if "`client_id`" in f.message)
    assert (f.start, f.end) == (0, 17)
    fixed = apply_edits(text, f.fixes[0].edits)
    assert fixed == text + 'client_id = ""\n' or fixed == text + 'client_id = ""\r'
    # a lone CR is no line break in TOML (docs/decisions.md): each is an error, and the
    # fix adds no other one
    syntax = having(run(fixed), "toml-syntax")
    assert syntax and all(fixed[f.start : f.end] == "\r" and "carriage return" in f.message for f in syntax)
    assert len(syntax) == fixed.count("\r")


def test_dotted_keys_then_a_header_for_the_same_connection_is_a_toml_error() -> None:
    text = 'connections.dev.instance = "dev12345"\n[connections.dev]\ngrant_type = "client_credentials"\n'
    a = run(text)
    # the dotted key defines connections.dev before the header: a TOML error, reported
    assert having(a, "duplicate-key") or having(a, "duplicate-table")


# -- codes on keys and values, in every form ---------------------------------------------


@dataclass
class Case:
    id: str
    keys: list[tuple[str, str]]
    code: str
    severity: int
    on: tuple[str, str, str]  # ("key" | "value", key, literal)
    says: tuple[str, ...]
    fix_title: str | None = None  # the first fix's title (None: no text fix)
    fixed_literal: str | None = None  # what the fix writes in place of the span

    def __str__(self) -> str:
        return self.id


CASES = [
    Case(
        "unknown-key-suggestion",
        [*password_keys(), ("scop", '"useraccount"')],
        "unknown-key",
        ERROR,
        ("key", "scop", '"useraccount"'),
        ("Unknown key `scop`", "in the connection `dev`", "did you mean `scope`?"),
        "Replace with `scope`",
        "scope",
    ),
    Case(
        "unknown-key-no-suggestion",
        [*password_keys(), ("zzzzzz", "1")],
        "unknown-key",
        ERROR,
        ("key", "zzzzzz", "1"),
        ("Unknown key `zzzzzz`", "known keys: instance, grant_type"),
    ),
    Case(
        "wrong-type-number-as-string",
        [*password_keys(), ("timeout", '"30"')],
        "wrong-type",
        ERROR,
        ("value", "timeout", '"30"'),
        ("`timeout` must be a number, not a string",),
    ),
    Case(
        "wrong-type-string-as-number",
        password_keys(username="42"),
        "wrong-type",
        ERROR,
        ("value", "username", "42"),
        ("`username` must be a string, not a number",),
    ),
    Case(
        "wrong-type-bool-as-string",
        grant_keys("authorization_code", pkce='"yes"'),
        "wrong-type",
        ERROR,
        ("value", "pkce", '"yes"'),
        ("`pkce` must be a boolean, not a string",),
    ),
    Case(
        "wrong-type-array",
        password_keys(scope='["a", "b"]'),
        "wrong-type",
        ERROR,
        ("value", "scope", '["a", "b"]'),
        ("`scope` must be a string, not a array",),
    ),
    Case(
        "wrong-type-date",
        password_keys(scope="2026-01-01"),
        "wrong-type",
        ERROR,
        ("value", "scope", "2026-01-01"),
        ("`scope` must be a string, not a date",),
    ),
    Case(
        "invalid-grant-type-suggestion",
        password_keys(grant_type='"pasword"'),
        "invalid-grant-type",
        ERROR,
        ("value", "grant_type", '"pasword"'),
        ("Unknown grant type `pasword`", "did you mean `password`?"),
        'Use "password"',
        '"password"',
    ),
    Case(
        "invalid-grant-type-no-suggestion",
        password_keys(grant_type='"magic"'),
        "invalid-grant-type",
        ERROR,
        ("value", "grant_type", '"magic"'),
        ("Unknown grant type `magic`", "`client_credentials`", "`authorization_code`"),
    ),
    Case(
        "ignored-key",
        grant_keys("client_credentials", username='"bob"'),
        "ignored-key",
        WARNING,
        ("key", "username", '"bob"'),
        ("`username` is ignored by the `client_credentials` grant", "used only by password"),
        "Remove `username`",
    ),
    Case(
        "ignored-key-jwt-label",
        grant_keys(JWT, redirect_uri='"http://127.0.0.1:1/cb"'),
        "ignored-key",
        WARNING,
        ("key", "redirect_uri", '"http://127.0.0.1:1/cb"'),
        ("`redirect_uri` is ignored by the `JWT bearer` grant", "authorization_code"),
        "Remove `redirect_uri`",
    ),
    Case(
        "invalid-reference-env-name",
        password_keys(password='"${env:1BAD}"'),
        "invalid-reference",
        WARNING,
        ("value", "password", '"${env:1BAD}"'),
        ("`${env:1BAD}` is not a valid variable name",),
    ),
    Case(
        "invalid-reference-unknown-kind",
        password_keys(password='"${vault:x}"'),
        "invalid-reference",
        WARNING,
        ("value", "password", '"${vault:x}"'),
        ("Unknown reference `${vault:x}`", "${env:NAME}"),
    ),
    Case(
        "invalid-reference-not-whole",
        password_keys(username='"a${env:X}"'),
        "invalid-reference",
        WARNING,
        ("value", "username", '"a${env:X}"'),
        ("A reference must be the whole value",),
    ),
    Case(
        "unresolved-env",
        password_keys(password='"${env:SNOW_NOT_SET}"'),
        "unresolved-reference",
        WARNING,
        ("value", "password", '"${env:SNOW_NOT_SET}"'),
        ("`SNOW_NOT_SET` is not set in the environment", "set it before fetching a token"),
    ),
    Case(
        "unresolved-file",
        password_keys(password='"${file:/nonexistent/snowauth/pw.txt}"'),
        "unresolved-reference",
        WARNING,
        ("value", "password", '"${file:/nonexistent/snowauth/pw.txt}"'),
        ("no such file", "/nonexistent/snowauth/pw.txt"),
    ),
    Case(
        "literal-client-secret",
        password_keys(client_secret='"hunter2"'),
        "literal-secret",
        WARNING,
        ("value", "client_secret", '"hunter2"'),
        ("`client_secret` is written in plain text", "${env:SNOW_DEV_CLIENT_SECRET}"),
        "Move `client_secret` to ${env:SNOW_DEV_CLIENT_SECRET}",
        '"${env:SNOW_DEV_CLIENT_SECRET}"',
    ),
    Case(
        "literal-password",
        password_keys(password="'hunter2'"),
        "literal-secret",
        WARNING,
        ("value", "password", "'hunter2'"),
        ("`password` is written in plain text", "${env:SNOW_DEV_PASSWORD}"),
        "Move `password` to ${env:SNOW_DEV_PASSWORD}",
        '"${env:SNOW_DEV_PASSWORD}"',
    ),
    Case(
        "literal-jwt-shared-secret",
        [*grant_keys(JWT, jwt_key_file=None), ("jwt_algorithm", '"HS256"'), ("jwt_shared_secret", '"hs-key"')],
        "literal-secret",
        WARNING,
        ("value", "jwt_shared_secret", '"hs-key"'),
        ("`jwt_shared_secret` is written in plain text", "${env:SNOW_DEV_JWT_SHARED_SECRET}"),
        "Move `jwt_shared_secret` to ${env:SNOW_DEV_JWT_SHARED_SECRET}",
        '"${env:SNOW_DEV_JWT_SHARED_SECRET}"',
    ),
    Case(
        "literal-refresh-token",
        grant_keys("refresh_token", refresh_token='"rt-123"'),
        "literal-secret",
        WARNING,
        ("value", "refresh_token", '"rt-123"'),
        ("`refresh_token` is written in plain text", "${env:SNOW_DEV_REFRESH_TOKEN}"),
        "Move `refresh_token` to ${env:SNOW_DEV_REFRESH_TOKEN}",
        '"${env:SNOW_DEV_REFRESH_TOKEN}"',
    ),
    Case(
        "invalid-client-auth",
        [*password_keys(), ("client_auth", '"basc"')],
        "invalid-value",
        ERROR,
        ("value", "client_auth", '"basc"'),
        ("`basc` is not a valid `client_auth`", "`body`, `basic`"),
        'Use "basic"',
        '"basic"',
    ),
    Case(
        "invalid-token-store",
        [*password_keys(), ("token_store", '"disk"')],
        "invalid-value",
        ERROR,
        ("value", "token_store", '"disk"'),
        ("`disk` is not a valid `token_store`", "`file`, `cache`"),
    ),
    Case(
        "invalid-jwt-algorithm",
        [*grant_keys(JWT), ("jwt_algorithm", '"RS257"')],
        "invalid-value",
        ERROR,
        ("value", "jwt_algorithm", '"RS257"'),
        ("`RS257` is not a valid `jwt_algorithm`", "`ES512`"),
        'Use "RS256"',
        '"RS256"',
    ),
    Case(
        "invalid-timeout-zero",
        [*password_keys(), ("timeout", "0")],
        "invalid-value",
        ERROR,
        ("value", "timeout", "0"),
        ("`timeout` must be a number of seconds",),
    ),
    Case(
        "invalid-timeout-huge",
        [*password_keys(), ("timeout", "601.5")],
        "invalid-value",
        ERROR,
        ("value", "timeout", "601.5"),
        ("`timeout` must be a number of seconds",),
    ),
    Case(
        "invalid-instance-bad-name",
        password_keys(instance='"dev 12345"'),
        "invalid-instance",
        ERROR,
        ("value", "instance", '"dev 12345"'),
        ("`dev 12345` is not an instance name",),
    ),
    Case(
        "invalid-instance-host-without-scheme",
        password_keys(instance='"dev12345.service-now.com"'),
        "invalid-instance",
        ERROR,
        ("value", "instance", '"dev12345.service-now.com"'),
        ("host name without a scheme", "`dev12345`"),
        'Use "dev12345"',
        '"dev12345"',
    ),
    Case(
        "invalid-instance-custom-host-without-scheme",
        password_keys(instance='"snow.example.com"'),
        "invalid-instance",
        ERROR,
        ("value", "instance", '"snow.example.com"'),
        ("has no scheme", "https://snow.example.com"),
        'Use "https://snow.example.com"',
        '"https://snow.example.com"',
    ),
    Case(
        "invalid-instance-query",
        password_keys(instance='"https://acme.service-now.com/?x=1"'),
        "invalid-instance",
        ERROR,
        ("value", "instance", '"https://acme.service-now.com/?x=1"'),
        ("must not have a query",),
        'Use "https://acme.service-now.com"',
        '"https://acme.service-now.com"',
    ),
    Case(
        "invalid-instance-fragment",
        password_keys(instance='"https://acme.service-now.com#top"'),
        "invalid-instance",
        ERROR,
        ("value", "instance", '"https://acme.service-now.com#top"'),
        ("fragment",),
        'Use "https://acme.service-now.com"',
        '"https://acme.service-now.com"',
    ),
    Case(
        "invalid-instance-empty",
        password_keys(instance='""'),
        "invalid-instance",
        ERROR,
        ("value", "instance", '""'),
        ("`instance` is empty",),
    ),
    Case(
        "insecure-instance",
        password_keys(instance='"http://acme.service-now.com/"'),
        "insecure-instance",
        ERROR,
        ("value", "instance", '"http://acme.service-now.com/"'),
        ("`http://` sends credentials in clear text", "https://acme.service-now.com"),
        'Use "https://acme.service-now.com"',
        '"https://acme.service-now.com"',
    ),
    Case(
        "invalid-redirect-uri-host",
        # a loopback address snowauth does not listen on (another host: paste-code below)
        grant_keys("authorization_code", redirect_uri='"http://127.0.0.2:8080/cb"'),
        "invalid-redirect-uri",
        ERROR,
        ("value", "redirect_uri", '"http://127.0.0.2:8080/cb"'),
        ("must point at this machine", "`127.0.0.2`"),
    ),
    Case(
        "paste-code",
        grant_keys("authorization_code", redirect_uri='"https://example.com/cb"'),
        "paste-code",
        INFORMATION,
        ("value", "redirect_uri", '"https://example.com/cb"'),
        ("paste the code the page shows", "the whole address"),
    ),
    Case(
        "invalid-redirect-uri-https",
        grant_keys("authorization_code", redirect_uri='"https://127.0.0.1:8080/cb"'),
        "invalid-redirect-uri",
        ERROR,
        ("value", "redirect_uri", '"https://127.0.0.1:8080/cb"'),
        ("must be an `http://` loopback URL",),
    ),
    Case(
        "invalid-redirect-uri-no-port",
        grant_keys("authorization_code", redirect_uri='"http://localhost/cb"'),
        "invalid-redirect-uri",
        ERROR,
        ("value", "redirect_uri", '"http://localhost/cb"'),
        ("needs an explicit port",),
    ),
    Case(
        "client-id-shape",
        password_keys(client_id='"my-client"'),
        "client-id-shape",
        WARNING,
        ("value", "client_id", '"my-client"'),
        ("32 hexadecimal characters",),
    ),
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_code_in_every_form(form: str, case: Case) -> None:
    text = render(form, case.keys)
    a = run(text)
    assert_spans_in_range(a)
    f = one(a, case.code)
    assert f.severity == case.severity
    assert f.connection == "dev"
    for fragment in case.says:
        assert fragment in f.message, (fragment, f.message)
    where, key, literal = case.on
    key_span, value_span = find_kv(text, key, literal)
    start, end = key_span if where == "key" else value_span
    assert (f.start, f.end) == (start, end), (text[f.start : f.end], text[start:end])
    assert span_lc(a, f) == expected_span(text, start, end)
    # nothing else beyond what the case brings (ignored keys bring their own warning)
    others = [g.code for g in a.findings if g is not f]
    assert set(others) <= {"ignored-key", "invalid-value"} - {case.code}, others

    text_fixes = [x for x in f.fixes if x.edits]
    if case.fix_title is None:
        assert text_fixes == []
        return
    if case.code == "ignored-key" and form == "inline":
        # removing a member of an inline table is not offered
        assert text_fixes == []
        return
    assert text_fixes, f
    assert text_fixes[0].title.startswith(case.fix_title), text_fixes[0].title
    assert text_fixes[0].preferred is (case.code != "ignored-key")
    fixed = fix_removes(text, f, form)
    if case.fixed_literal is not None:
        assert fixed == text[:start] + case.fixed_literal + text[end:]
    if case.code == "ignored-key":
        assert key not in run(fixed).connections["dev"].keys
        assert f"{key} = {literal}" not in fixed


def test_ignored_key_is_tagged_unnecessary_and_remove_fix_removes_the_line() -> None:
    text = render("table", grant_keys("client_credentials", username='"bob"'))
    f = one(run(text), "ignored-key")
    assert f.tags == (TAG_UNNECESSARY,)
    fixed = apply_edits(text, f.fixes[0].edits)
    assert fixed == text.replace('username = "bob"\n', "")


@pytest.mark.parametrize("grant", ALL_GRANTS)
def test_every_grant_specific_key_is_ignored_by_the_other_grants(grant: str) -> None:
    specific = {
        "username": {"password"},
        "password": {"password"},
        "refresh_token": {"refresh_token"},
        "redirect_uri": {"authorization_code"},
        "pkce": {"authorization_code"},
        "jwt_key_file": {JWT, "jwt_bearer"},
        "jwt_subject": {JWT, "jwt_bearer"},
        "jwt_key_id": {JWT, "jwt_bearer"},
        "jwt_algorithm": {JWT, "jwt_bearer"},
    }
    values = {
        "username": '"u"',
        "password": '"${prompt}"',
        "refresh_token": '"${prompt}"',
        "redirect_uri": '"http://127.0.0.1:1/cb"',
        "pkce": "true",
        "jwt_key_file": '"k.pem"',
        "jwt_subject": '"s"',
        "jwt_key_id": '"kid"',
        "jwt_algorithm": '"ES256"',
    }
    keys = dict(grant_keys(grant))
    for k, v in values.items():
        keys.setdefault(k, v)
    a = run(render("table", list(keys.items())))
    ignored = {f.message.split("`")[1] for f in having(a, "ignored-key")}
    assert ignored == {k for k, grants in specific.items() if grant not in grants}
    assert having(a, "missing-key") == []


def test_literal_secret_ignored_by_the_grant_is_not_reported_as_literal() -> None:
    text = render("table", grant_keys("client_credentials", password='"hunter2"'))
    a = run(text)
    assert codes(a) == ["ignored-key"]


def test_literal_empty_secret_and_prompt_are_fine() -> None:
    a = run(render("table", password_keys(password='"${prompt}"', client_secret='""')))
    assert having(a, "literal-secret") == []
    assert having(a, "unresolved-reference") == []


def test_literal_secret_fix_appends_to_dotenv_and_then_resolves(tmp_path: Path) -> None:
    text = render("table", password_keys(password='"it\'s a \\"secret\\""'))
    env = environment(tmp_path)
    a = run(text, env)
    f = one(a, "literal-secret")
    fix = f.fixes[0]
    assert [(x.name, x.text) for x in fix.appends] == [(".env", 'SNOW_DEV_PASSWORD="it\'s a \\"secret\\""\n')]
    fixed = apply_edits(text, fix.edits)
    # the editor appends the line to .env beside the file: then the reference resolves
    after = run(fixed, environment(tmp_path))
    assert "unresolved-reference" in codes(after)
    (tmp_path / ".env").write_text(fix.appends[0].text)
    after = run(fixed, environment(tmp_path))
    assert after.findings == []
    assert after.connections["dev"].keys["password"].value.data == "${env:SNOW_DEV_PASSWORD}"
    from snowauth.secrets import parse_dotenv

    assert parse_dotenv(fix.appends[0].text) == {"SNOW_DEV_PASSWORD": 'it\'s a "secret"'}


@pytest.mark.parametrize(
    ("value", "dotenv_line"),
    [
        ("abc123", "X=abc123\n"),
        ("with space", "X='with space'\n"),
        ("it's", 'X="it\'s"\n'),
        ("a#b", "X='a#b'\n"),
    ],
)
def test_literal_secret_dotenv_quoting_round_trips(value: str, dotenv_line: str) -> None:
    from snowauth.secrets import dotenv_quote as _dotenv_quote
    from snowauth.secrets import parse_dotenv

    line = f"X={_dotenv_quote(value)}\n"
    assert line == dotenv_line
    assert parse_dotenv(line) == {"X": value}


def test_env_name_of_odd_connection_names() -> None:
    from snowauth.secrets import env_name

    assert env_name("dev", "password") == "SNOW_DEV_PASSWORD"
    assert env_name("my-dev.2", "client_secret") == "SNOW_MY_DEV_2_CLIENT_SECRET"
    assert env_name("ü", "password") == "SNOW_CONNECTION_PASSWORD"


def test_unresolved_reference_resolved_by_dotenv(tmp_path: Path) -> None:
    text = render("table", password_keys(password='"${env:FROM_DOTENV}"'))
    assert "unresolved-reference" in codes(run(text, environment(tmp_path)))
    (tmp_path / ".env").write_text("# comment\nexport FROM_DOTENV='x'\n")
    assert run(text, environment(tmp_path)).findings == []


def test_unresolved_file_reference_is_relative_to_the_folder(tmp_path: Path) -> None:
    text = render("table", password_keys(password='"${file:pw.txt}"'))
    f = one(run(text, environment(tmp_path)), "unresolved-reference")
    assert str(tmp_path / "pw.txt") in f.message
    (tmp_path / "pw.txt").write_text("pw\n")
    assert run(text, environment(tmp_path)).findings == []


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("key", "keys"),
    [
        ("jwt_key_file", grant_keys(JWT, jwt_key_file='"keys/jwt.pem"')),
        ("ca_bundle", [*password_keys(), ("ca_bundle", '"keys/jwt.pem"')]),
    ],
)
def test_missing_file(tmp_path: Path, form: str, key: str, keys: list[tuple[str, str]]) -> None:
    text = render(form, keys)
    a = run(text, environment(tmp_path))
    f = one(a, "missing-file")
    assert f.severity == WARNING
    assert f"`{key}`: no such file `keys/jwt.pem`" in f.message
    _, value_span = find_kv(text, key, '"keys/jwt.pem"')
    assert (f.start, f.end) == value_span
    # without a folder (an unsaved document) nothing is checked
    assert "missing-file" not in codes(run(text, environment(None)))
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "jwt.pem").write_text("-----BEGIN PRIVATE KEY-----\n")
    assert run(text, environment(tmp_path)).findings == []


@pytest.mark.parametrize(
    ("instance", "ok"),
    [
        ('"dev12345"', True),
        ('"acme"', True),
        ('"https://acme.service-now.com"', True),
        ('"https://acme.service-now.com/"', True),
        ('"https://acme.servicenowservices.com"', True),
        ('"https://snow.example.com:8443/base/path"', True),
        ('"http://127.0.0.1:8080"', True),
        ('"http://127.1.2.3:8080"', True),
        ('"http://localhost:8080/"', True),
        ('"http://[::1]:8080"', True),
        ('"-dev"', False),
        ('"dev_123"', False),
        ('"ftp://acme.service-now.com"', False),
        ('"https://"', False),
        ('"https://user:pw@acme.service-now.com"', False),
        ('"https://acme.service-now.com:99999"', False),
        ('"http://10.0.0.1"', False),
        ('"http://localhost.example.com"', False),
    ],
)
def test_instance_values(instance: str, ok: bool) -> None:
    a = run(render("table", password_keys(instance=instance)))
    found = [f for f in a.findings if f.code in ("invalid-instance", "insecure-instance")]
    assert (found == []) is ok, [(f.code, f.message) for f in a.findings]


# -- TOML-level problems ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "target", "first"),
    [
        # the same connection header twice
        (
            '[connections.dev]\ninstance = "a"\n[connections.dev]\ngrant_type = "b"\n',
            "duplicate-connection",
            ("[connections.dev]", 1),
            ("[connections.dev]", 0),
        ),
        # an inline connection twice
        (
            '[connections]\ndev = { instance = "a" }\ndev = { instance = "b" }\n',
            "duplicate-connection",
            ("dev", 1),
            ("dev", 0),
        ),
        # a dotted inline connection twice
        (
            'connections.dev = { instance = "a" }\nconnections.dev = { instance = "b" }\n',
            "duplicate-connection",
            ("dev", 1),
            ("dev", 0),
        ),
        # a key twice, table form
        (
            '[connections.dev]\ninstance = "a"\ninstance = "b"\n',
            "duplicate-key",
            ("instance", 1),
            ("instance", 0),
        ),
        # a key twice, dotted at the top
        (
            'connections.dev.instance = "a"\nconnections.dev.instance = "b"\n',
            "duplicate-key",
            ("instance", 1),
            ("instance", 0),
        ),
        # a key twice, dotted under [connections]
        (
            '[connections]\ndev.instance = "a"\ndev.instance = "b"\n',
            "duplicate-key",
            ("instance", 1),
            ("instance", 0),
        ),
        # a key twice in an inline table
        (
            '[connections]\ndev = { instance = "a", instance = "b" }\n',
            "duplicate-key",
            ("instance", 1),
            ("instance", 0),
        ),
        # extending an inline table with a dotted key
        (
            '[connections]\ndev = { instance = "a" }\ndev.grant_type = "b"\n',
            "duplicate-key",
            ("dev", 1),
            ("dev", 0),
        ),
        # a table header for a connection defined inline
        (
            '[connections]\ndev = { instance = "a" }\n[connections.dev]\n',
            "duplicate-key",
            ("dev", 1),
            ("dev", 0),
        ),
        # a header for a table made by dotted keys
        (
            '[connections]\ndev.instance = "a"\n[connections.dev]\n',
            "duplicate-key",
            ("dev", 1),
            ("dev", 0),
        ),
        # dotted keys extending a table defined by a header (TOML forbids it)
        (
            '[connections.dev]\ninstance = "a"\n[connections]\ndev.grant_type = "b"\n',
            "duplicate-key",
            ("dev", 1),
            ("[connections.dev]", 0),
        ),
        (
            '[connections.dev.token]\naccess_token = "a"\n[connections.dev]\ntoken.scope = "b"\n',
            "duplicate-key",
            ("token", 2),
            ("[connections.dev.token]", 0),
        ),
        # a token table twice
        (
            "[connections.dev.token]\n[connections.dev.token]\n",
            "duplicate-table",
            ("[connections.dev.token]", 1),
            ("[connections.dev.token]", 0),
        ),
        # a top-level table twice
        ("[connections]\n[connections]\n", "duplicate-table", ("[connections]", 1), ("[connections]", 0)),
        # default twice
        ('default = "a"\ndefault = "b"\n', "duplicate-key", ("default", 1), ("default", 0)),
        # a value used as a table
        (
            '[connections.dev]\ninstance = "a"\ninstance.x = "b"\n',
            "duplicate-key",
            ("instance", 1),
            ("instance", 0),
        ),
    ],
)
def test_toml_duplicates(text: str, code: str, target: tuple[str, int], first: tuple[str, int]) -> None:
    a = run(text)
    assert_spans_in_range(a)
    f = one(a, code)
    assert f.severity == ERROR

    def nth(s: str, n: int) -> int:
        i = -1
        for _ in range(n + 1):
            i = text.index(s, i + 1)
        return i

    start = nth(*target)
    assert (f.start, f.end) == (start, start + len(target[0])), text[f.start : f.end]
    assert span_lc(a, f) == expected_span(text, start, start + len(target[0]))
    assert len(f.related) == 1
    rstart = nth(*first)
    rs, re_, rmsg = f.related[0]
    assert rmsg == "first defined here"
    assert rs == rstart and text[rs:re_].startswith(first[0])
    assert "twice" in f.message or "already defined" in f.message


def test_duplicate_connection_message() -> None:
    a = run("[connections.dev]\n[connections.dev]\n")
    f = one(a, "duplicate-connection")
    assert f.message == "The connection `dev` is defined twice: merge the two into one table"


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ('[[connections.dev]]\ninstance = "a"\n', "[[connections.dev]]"),
        ("[[connections]]\n", "[[connections]]"),
        ("[[connections.dev.token]]\n", "[[connections.dev.token]]"),
    ],
)
def test_array_of_tables(text: str, target: str) -> None:
    a = run(text)
    f = one(a, "array-of-tables")
    assert f.severity == ERROR
    assert (f.start, f.end) == (text.index(target), text.index(target) + len(target))
    assert f"write `{target[1:-1]}`" in f.message
    # the keys under it belong to no connection: no cascade of other findings
    assert codes(a) == ["array-of-tables"]


def test_array_of_tables_then_a_good_connection() -> None:
    text = (
        '[[connections.old]]\ninstance = "a"\n'
        "[connections.dev]\n" + "\n".join(f"{k} = {v}" for k, v in password_keys()) + "\n"
    )
    a = run(text)
    assert codes(a) == ["array-of-tables"]
    assert list(a.connections) == ["dev"]


# -- wrong shapes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "target", "says"),
    [
        ("connections = 1\n", "1", "`connections` must be a table of connections"),
        ('[connections]\ndev = "x"\n', '"x"', "The connection `dev` must be a table"),
        ('connections.dev = ["x"]\n', '["x"]', "not a array"),
        ("default = 1\n", "1", "`default` must be a string naming a connection, not a number"),
        (
            '[connections.dev]\ntoken = "x"\n',
            '"x"',
            "`token` must be a table of token keys",
        ),
        (
            "[connections.dev]\nscope.x = 1\n",
            "scope",
            "`scope` must be a string, not a table",
        ),
        ("[connections.dev.scope]\n", "scope", "`scope` must be a string, not a table"),
        # an inline table where a string belongs: reported on the key, like `scope.x`
        ("[connections.dev]\nscope = { x = 1 }\n", "scope", "`scope` must be a string, not a table"),
        (
            "[connections.dev.token]\nexpires_at = 1\n",
            "1",
            "`expires_at` must be a date-time (e.g. 2026-11-28T10:29:59Z), not a number",
        ),
        (
            "[connections.dev.token]\nexpires_at = 2026-11-28T10:00:00\n",
            "2026-11-28T10:00:00",
            "`expires_at` must be an offset date-time in UTC",
        ),
        (
            "[connections.dev.token]\nrefresh_expires_at = 2026-11-28\n",
            "2026-11-28",
            "`refresh_expires_at` must be a date-time",
        ),
        (
            '[connections.dev.token]\nexpires_at = "2026-11-28T10:00:00Z"\n',
            '"2026-11-28T10:00:00Z"',
            "`expires_at` must be a date-time (e.g. 2026-11-28T10:29:59Z), not a string",
        ),
        ("[connections.dev.token]\naccess_token = 1\n", "1", "`access_token` must be a string"),
        (
            "[connections.dev.token]\nexpires_at.x = 1\n",
            "expires_at",
            "`expires_at` must be a date-time",
        ),
    ],
)
def test_wrong_type(text: str, target: str, says: str) -> None:
    a = run(text)
    f = one(a, "wrong-type")
    assert says in f.message, f.message
    start = text.rindex(target) if target == "1" else text.index(target)
    assert (f.start, f.end) == (start, start + len(target))


@pytest.mark.parametrize(
    ("text", "name", "where", "guess"),
    [
        ('[connections.dev]\nscop = "x"\n', "scop", "in the connection `dev`", "scope"),
        ('[connections.dev.token]\naccess_tokn = "x"\n', "access_tokn", "in the token of `dev`", "access_token"),
        ('[connections.dev.token]\nfoo = "x"\n', "foo", "in the token of `dev`", None),
        ("[connections.dev.tokens]\n", "tokens", "in the connection `dev`", "token"),
        ("[connections.dev.token.x]\n", "x", "in the token of `dev`", None),
        ('defualt = "dev"\n', "defualt", "at the top level", "default"),
        ("[connection.dev]\n", "connection", "at the top level", "connections"),
        ('connection.dev.instance = "x"\n', "connection", "at the top level", "connections"),
        ('[connections]\ndev = { instance = "a", scpoe = "b" }\n', "scpoe", "in the connection `dev`", "scope"),
        ("[connections]\ndev = { token = { expires = 1 } }\n", "expires", "in the token of `dev`", "expires_at"),
        ('connections.dev.token.acces_token = "x"\n', "acces_token", "in the token of `dev`", "access_token"),
    ],
)
def test_unknown_keys(text: str, name: str, where: str, guess: str | None) -> None:
    a = run(text)
    f = one(a, "unknown-key")
    assert f"Unknown key `{name}` {where}" in f.message
    start = text.index(name)
    assert (f.start, f.end) == (start, start + len(name))
    if guess:
        assert f.message.endswith(f"did you mean `{guess}`?")
        fixed = fix_removes(text, f)
        assert fixed == text[:start] + guess + text[start + len(name) :]
    else:
        assert f.fixes == []
        assert "known keys:" in f.message


def test_unknown_key_reported_once_per_occurrence_of_unknown_top_table() -> None:
    a = run("[foo]\na = 1\n[foo.bar]\n")
    # one diagnostic per header naming the unknown table is acceptable; never on `a`
    assert all(a.text[f.start : f.end] == "foo" for f in having(a, "unknown-key"))


@pytest.mark.parametrize(
    ("default", "code", "fix"),
    [
        ('"dev"', None, None),
        ('"prod"', "unknown-connection", None),
        ('"devv"', "unknown-connection", '"dev"'),
    ],
)
def test_default(default: str, code: str | None, fix: str | None) -> None:
    text = f"default = {default}\n" + render("table", password_keys())
    a = run(text)
    if code is None:
        assert a.findings == []
        return
    f = one(a, code)
    assert f.severity == ERROR
    assert (f.start, f.end) == (10, 10 + len(default))
    assert span_lc(a, f) == ((0, 10), (0, 10 + len(default)))
    assert f"`default` names the connection `{default[1:-1]}`, which is not defined" in f.message
    if fix:
        assert fix_removes(text, f) == text.replace(default, fix, 1)
    else:
        assert f.fixes == []
        assert "(connections here: dev)" in f.message


def test_default_without_connections() -> None:
    f = one(run('default = "dev"\n'), "unknown-connection")
    assert "(connections here: none)" in f.message


# -- tokens ---------------------------------------------------------------------------------


TOKEN = [
    ("access_token", '"at"'),
    ("refresh_token", '"rt"'),
    ("token_type", '"Bearer"'),
    ("scope", '"useraccount"'),
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("expires", "refresh", "refresh_expires", "expect"),
    [
        ("2026-11-28T10:23:00Z", True, None, None),
        ("2026-11-28T09:37:00Z", True, None, ("23 min", "refresh it", "refresh")),
        ("2026-11-28T07:00:00Z", False, None, ("3 h", "cannot be refreshed", "fetch")),
        (
            "2026-11-20T10:00:00Z",
            True,
            "2026-11-28T09:00:00Z",
            ("8 days", "cannot be refreshed", "fetch"),
        ),
        (
            "2026-11-28T09:59:30Z",
            True,
            "2027-01-01T00:00:00Z",
            ("30 s", "refresh it", "refresh"),
        ),
        ("2026-11-28T12:00:00+02:00", True, None, ("0 s", "refresh it", "refresh")),
    ],
)
def test_token_expired(
    form: str,
    expires: str,
    refresh: bool,
    refresh_expires: str | None,
    expect: tuple[str, str, str] | None,
) -> None:
    token = [t for t in TOKEN if refresh or t[0] != "refresh_token"]
    token.append(("expires_at", expires))
    if refresh_expires:
        token.append(("refresh_expires_at", refresh_expires))
    text = render(form, password_keys(), token)
    a = run(text)
    assert set(a.connections["dev"].token) == {k for k, _ in token}
    if expect is None:
        assert a.findings == []
        return
    ago, says, action = expect
    f = one(a, "token-expired")
    assert codes(a) == ["token-expired"]
    assert f.severity == INFORMATION
    assert f"The access token of `dev` expired {ago} ago" in f.message
    assert says in f.message
    _, value_span = find_kv(text, "expires_at", expires)
    assert (f.start, f.end) == value_span
    assert [(x.title, x.action, x.connection, x.edits) for x in f.fixes] == [
        ("Refresh token" if action == "refresh" else "Fetch token", action, "dev", [])
    ]


def test_token_expired_exactly_now() -> None:
    text = render("table", password_keys(), [("expires_at", "2026-11-28T10:00:00Z")])
    assert codes(run(text)) == ["token-expired"]
    assert codes(run(text, now=NOW - timedelta(seconds=1))) == []


def test_severity_constants_match_lsp() -> None:
    assert (ERROR, WARNING, INFORMATION, HINT) == (1, 2, 3, 4)


# -- several connections and problems in one file ----------------------------------------


def test_findings_are_attributed_to_their_connection_and_sorted() -> None:
    text = (
        'default = "prod"\n'
        "[connections.dev]\n"
        'instance = "http://dev.example.com"\n'
        'grant_type = "client_credentials"\n'
        f'client_id = "{HEX32}"\n'
        'client_secret = "${env:SNOW_SECRET}"\n'
        "[connections]\n"
        'prod = { instance = "acme", grant_type = "password", client_id = "x" }\n'
        'test.instance = "dev12345"\n'
    )
    a = run(text)
    assert_spans_in_range(a)
    assert [f.start for f in a.findings] == sorted(f.start for f in a.findings)
    by = {(f.code, f.connection) for f in a.findings}
    assert ("insecure-instance", "dev") in by
    assert ("client-id-shape", "prod") in by
    assert ("missing-key", "prod") in by
    assert ("missing-key", "test") in by
    assert "unknown-connection" not in codes(a)
    prod_missing = [f for f in having(a, "missing-key") if f.connection == "prod"]
    assert {text[f.start : f.end] for f in prod_missing} == {"prod"}
    test_missing = [f for f in having(a, "missing-key") if f.connection == "test"]
    assert {text[f.start : f.end] for f in test_missing} == {"test.instance"}
    assert len(test_missing) == 2  # grant_type, client_id


def test_quoted_connection_names() -> None:
    text = '[connections."my dev"]\ninstance = "x y"\n'
    a = run(text)
    assert list(a.connections) == ["my dev"]
    f = one(a, "invalid-instance")
    assert f.connection == "my dev"
    missing = having(a, "missing-key")
    assert all("`my dev`" in f.message for f in missing)


def test_index_property_is_a_line_index() -> None:
    a = run("a\nb")
    assert isinstance(a.index, LineIndex)
    assert a.index.position(2) == (1, 0)
    assert lc("a\nb", 2) == (1, 0)


@pytest.mark.parametrize("nl", ["\n", "\r\n", "\r"])
def test_remove_fix_removes_exactly_the_line_with_any_line_break(nl: str) -> None:
    keys = grant_keys("client_credentials", username='"bob"')
    keys.append(("scope", '"useraccount"'))
    # in TOML a comment runs to the next LF: after a lone CR it would hold the rest
    head = "# head" if nl != "\r" else 'default = "dev"'
    text = nl.join([head, "[connections.dev]", *(f"{k} = {v}" for k, v in keys)]) + nl
    f = one(run(text), "ignored-key")
    fixed = apply_edits(text, f.fixes[0].edits)
    assert fixed == text.replace('username = "bob"' + nl, "")


@pytest.mark.parametrize("nl", ["\n", "\r\n", "\r"])
def test_insert_fix_uses_the_files_line_break(nl: str) -> None:
    text = nl.join(["[connections.dev]", 'instance = "dev12345"', 'grant_type = "client_credentials"']) + nl
    f = next(f for f in having(run(text), "missing-key") if "`client_id`" in f.message)
    fixed = apply_edits(text, f.fixes[0].edits)
    assert fixed == text + 'client_id = ""' + nl


def test_insert_fix_after_a_line_ending_in_lone_cr_in_a_mixed_file() -> None:
    text = '[connections.dev]\ninstance = "dev12345"\ngrant_type = "client_credentials"\r[other]\n'
    a = run(text)
    f = next(f for f in having(a, "missing-key") if "`client_id`" in f.message)
    fixed = apply_edits(text, f.fixes[0].edits)
    assert fixed == text.replace('"client_credentials"\r', '"client_credentials"\rclient_id = ""\n')
    assert "client_id" in run(fixed).connections["dev"].keys


@pytest.mark.parametrize(
    ("text", "header"),
    [
        # no [connections.dev]: the first table that introduces the connection
        ("[connections.dev.token]\naccess_token = 'a'\n[connections]\ndev.scope = 'x'\n", "[connections.dev.token]"),
        ("[connections]\ndev.scope = 'x'\n[connections.dev.token]\naccess_token = 'a'\n", "dev.scope"),
        (
            "connections.dev.token.access_token = 'a'\nconnections.dev.scope = 'x'\n",
            "connections.dev.token.access_token",
        ),
        # a [connections.dev] header wins even when it comes later
        ("[connections.dev.token]\naccess_token = 'a'\n[connections.dev]\nscope = 'x'\n", "[connections.dev]"),
    ],
)
def test_header_is_the_first_introducer_without_a_connection_header(text: str, header: str) -> None:
    a = run(text)
    missing = having(a, "missing-key")
    assert len(missing) == 3
    start = text.index(header)
    assert {(f.start, f.end) for f in missing} == {(start, start + len(header))}
