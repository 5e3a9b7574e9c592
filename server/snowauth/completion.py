"""Completion: what may be typed at an offset (table headers, keys, values, secret
references), as pure functions of an Analysis.

One job, over 500 lines: reading where the cursor is on a line that may not parse yet
(inside which table, inline table, key or string) serves completion only, and each
kind of item depends on that reading."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from snowauth import model
from snowauth.analysis import Analysis
from snowauth.secrets import Environment, env_name
from snowauth.syntax import Header


@dataclass(slots=True)
class Completion:
    label: str
    kind: str  # "key" | "value" | "table" | "variable" | "reference"
    insert_text: str
    start: int  # the span the insertion replaces
    end: int
    detail: str = ""
    documentation: str = ""
    sort_text: str = ""
    snippet: bool = False
    filter_text: str | None = None
    preselect: bool = False  # the item Enter takes
    incomplete: bool = False  # the list changes with each letter typed: ask again


# -- where is the cursor ---------------------------------------------------------------

_KEY_CHARS = r"[A-Za-z0-9_\-]"
_DOTTED = r"(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')"
_HEADER_PREFIX = re.compile(r"^\s*\[\[?\s*([^\]]*)$")
_KEY_PREFIX = re.compile(rf"^\s*((?:{_DOTTED}\s*\.\s*)*)({_KEY_CHARS}*)$")
_VALUE_PREFIX = re.compile(rf"^\s*((?:{_DOTTED}\s*\.\s*)*{_DOTTED})\s*=\s*(.*)$")
_INLINE_KEY = re.compile(rf"[{{,]\s*((?:{_DOTTED}\s*\.\s*)*)({_KEY_CHARS}*)$")
# the value typed so far may hold strings (closed, or open at the cursor) with `,` or `{`
_INLINE_VALUE = re.compile(
    rf"[{{,]\s*((?:{_DOTTED}\s*\.\s*)*{_DOTTED})\s*=\s*"
    r"((?:[^,{}\"']|\"[^\"]*\"|'[^']*')*(?:\"[^\"]*|'[^']*)?)$"
)
_INLINE_OWNER = re.compile(rf"[{{,]\s*((?:{_DOTTED}\s*\.\s*)*{_DOTTED})\s*=\s*$")


def _names(dotted: str) -> list[str]:
    out = []
    for m in re.finditer(_DOTTED, dotted):
        s = m.group()
        out.append(s[1:-1] if s[:1] in "\"'" else s)
    return out


def table_at(a: Analysis, offset: int) -> tuple[str, ...] | None:
    """The table path of the section holding ``offset`` (None inside [[arrays]])."""
    return a.table_at(offset)


def _line_prefix(a: Analysis, offset: int) -> tuple[int, str]:
    line, _ = a.index.position(offset)
    start = a.index.starts[line]
    return start, a.text[start:offset]


# the rest of the word under the cursor, which an accepted item replaces too
# (docs/decisions.md, "Completion replaces the word under the cursor")
_KEY_TAIL = re.compile(r"[A-Za-z0-9_\-]*")
_BARE_TAIL = re.compile(r"[A-Za-z0-9_:.\-]*")
_STRING_TAIL = re.compile(r"[^\"\s,{}]*\"?")
_REFERENCE_TAIL = re.compile(r"[^\"\s,{}]*")
_VALUE_AFTER = re.compile(r"[ \t]*=")


def _tail_end(a: Analysis, offset: int, pattern: re.Pattern[str]) -> int:
    """Where the word that ``pattern`` reads at ``offset`` ends (on the cursor's line)."""
    m = pattern.match(a.text, offset)
    return m.end() if m else offset


# -- completion --------------------------------------------------------------------------


def complete(a: Analysis, offset: int, env: Environment, *, snippets: bool) -> list[Completion]:
    _, prefix = _line_prefix(a, offset)
    if "#" in prefix and not _in_string(prefix):
        return []
    m = _HEADER_PREFIX.match(prefix)
    if m and "=" not in prefix:
        return _complete_header(a, offset, m.group(1), snippets)
    inline_open = _open_brace(prefix)
    if inline_open >= 0:
        mv = _INLINE_VALUE.search(prefix)
        mk = _INLINE_KEY.search(prefix)
        owner = _inline_owner(prefix, inline_open)
        base = table_at(a, offset)
        if base is not None and owner is not None:
            path = base + owner
            if mv and (not mk or mv.end() >= mk.end()) and "=" in prefix[inline_open:]:
                return _complete_value(a, offset, path + tuple(_names(mv.group(1))), mv.group(2), env, snippets)
            if mk:
                typed_pairs = dict(re.findall(r'([A-Za-z0-9_-]+)\s*=\s*"([^"]*)"', prefix[inline_open:]))
                typed_pairs.update(
                    (k, "") for k in re.findall(r"([A-Za-z0-9_-]+)\s*=", prefix[inline_open:]) if k not in typed_pairs
                )
                if _in_string(prefix[inline_open:]):
                    return []
                return _complete_keys(
                    a,
                    offset,
                    path + tuple(_names(mk.group(1))),
                    mk.group(2),
                    snippets,
                    inline=True,
                    typed=typed_pairs,
                )
        return []
    m = _VALUE_PREFIX.match(prefix)
    if m:
        base = table_at(a, offset)
        if base is None:
            return []
        return _complete_value(a, offset, base + tuple(_names(m.group(1))), m.group(2), env, snippets)
    m = _KEY_PREFIX.match(prefix)
    if m:
        base = table_at(a, offset)
        if base is None:
            return []
        return _complete_keys(a, offset, base + tuple(_names(m.group(1))), m.group(2), snippets, inline=False)
    return []


def _inline_owner(prefix: str, brace: int) -> tuple[str, ...] | None:
    """The key path (relative to the line's table) of the inline table opened at ``brace``.

    One pass over the line, whatever its depth: a hostile line opens thousands of tables,
    and a look at the line before each of them (recursively) was quadratic and overflowed
    the stack."""
    opened = _open_braces(prefix[:brace])  # the tables around it, outermost first
    m = _VALUE_PREFIX.match(prefix[: opened[0] if opened else brace] + "{}")
    if m is None:
        return None
    path = _names(m.group(1))
    for k, outer in enumerate(opened):
        inner = opened[k + 1] if k + 1 < len(opened) else brace
        m = _INLINE_OWNER.search(prefix, outer, inner)  # the key just before `inner`
        if m is None:
            return None
        path += _names(m.group(1))
    return tuple(path)


def _open_brace(prefix: str) -> int:
    """The offset of an inline table's `{` still open at the end of ``prefix``, or -1."""
    stack = _open_braces(prefix)
    return stack[-1] if stack else -1


def _open_braces(prefix: str) -> list[int]:
    """The offsets of the inline tables' `{` still open at the end of ``prefix``, in order."""
    quote = ""
    stack: list[int] = []
    for i, ch in enumerate(prefix):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "{":
            stack.append(i)
        elif ch == "}" and stack:
            stack.pop()
    return stack


def _in_string(prefix: str) -> bool:
    """True when ``prefix`` ends inside a quoted string (a `'` in a "…" string is text)."""
    quote = ""
    escaped = False
    for ch in prefix:
        if escaped:
            escaped = False
        elif quote:
            escaped = ch == "\\" and quote == '"'
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return False
    return bool(quote)


_NAME_TYPED = re.compile(r"""connections\s*\.\s*([A-Za-z0-9_-]+|"[^"]*"?|'[^']*'?)""")
_SUBTABLE_TYPED = re.compile(r"""connections\s*\.\s*([A-Za-z0-9_-]+|"[^"]*"|'[^']*')\s*\.\s*[A-Za-z0-9_-]*""")


def _free_name(a: Analysis) -> str:
    """The name a new connection's placeholder suggests: one the file does not use yet."""
    taken = set(a.connection_names())
    return next((n for n in ("dev", "prod", "test") if n not in taken), "new")


def _complete_header(a: Analysis, offset: int, typed: str, snippets: bool) -> list[Completion]:
    """Table headers. The list is marked incomplete: the items depend on every letter of
    the name typed, so editors ask again at each keystroke instead of filtering a list
    whose texts hold the first letters only."""
    start = offset - len(typed)
    line_end = a.index.offset(a.index.position(offset)[0], 10**9)
    # the name goes on after the cursor: the items replace, and read, all of it
    word_end = min(_tail_end(a, offset, _KEY_TAIL), line_end)
    typed += a.text[offset:word_end]
    rest = a.text[word_end:line_end]
    closed = rest.lstrip().startswith("]")
    double = a.text[:start].rstrip().endswith("[[")
    close = "" if closed else ("]]" if double else "]")
    # the span an item closing the header replaces: through a `]` already after the cursor,
    # so that the cursor lands after the header
    end_closed = word_end + rest.index("]") + (2 if rest.lstrip().startswith("]]") else 1) if closed else word_end
    items: list[Completion] = []
    m = _NAME_TYPED.fullmatch(typed.strip())
    if m and not double:
        # a name is being typed: first the item that closes the header with it
        name_text, header = m.group(1), typed.strip()  # as the user spells it
        if name_text[0] in "\"'" and (len(name_text) == 1 or name_text[-1] != name_text[0]):
            name_text += name_text[0]
            header += name_text[0]
        name = name_text[1:-1] if name_text[0] in "\"'" else name_text
        items.append(
            Completion(
                f"[connections.{name_text}]",
                "table",
                f"{header}]",
                start,
                end_closed,
                detail=f"a new connection {name!r}",
                documentation=model.CONNECTIONS_DOC,
                sort_text="0",
                filter_text=typed,
                preselect=True,
                incomplete=True,
            )
        )
    elif not _SUBTABLE_TYPED.fullmatch(typed.strip()):
        free = _free_name(a)
        items.append(
            Completion(
                "connections.<name>",
                "table",
                f"connections.${{1:{free}}}{close}" if snippets else "connections.",
                start,
                word_end,
                detail="a new connection",
                documentation=model.CONNECTIONS_DOC,
                sort_text="0",
                snippet=snippets,
                filter_text="connections.",
                incomplete=True,
            )
        )
    for name in a.connection_names():
        c = a.connection(name)
        if c is not None and c.token_header is None and not c.token_defined:
            items.append(
                Completion(
                    f"connections.{name}.token",
                    "table",
                    f"connections.{_quote_key(name)}.token" + ("]]" if double else "]"),
                    start,
                    end_closed,
                    detail=f"token table of {name!r} — written by Fetch token",
                    documentation=model.TOKEN_TABLE_DOC,
                    sort_text="1" + name,
                    incomplete=True,
                )
            )
    return items


def _quote_key(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else '"' + name.replace('"', '\\"') + '"'


def _snippet_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("$", "\\$").replace("}", "\\}")


_ENV_PLACEHOLDER = re.compile(r"\$\{env:[A-Za-z0-9_]*\}")
_EXAMPLE_DATETIME = "2030-01-01T00:00:00Z"


def _example(spec: model.KeySpec, connection: str | None) -> str:
    """The example value of a key, as TOML. An `${env:…}` reference names the variable
    the way the move-to-.env quick fix does (`SNOW_<CONNECTION>_<KEY>`)."""
    if spec.type == "datetime":
        return _EXAMPLE_DATETIME
    if connection is not None:
        return _ENV_PLACEHOLDER.sub(lambda _m: "${env:" + env_name(connection, spec.name) + "}", spec.placeholder)
    return spec.placeholder


def value_snippet(spec: model.KeySpec, connection: str | None, snippets: bool, example: str | None = None) -> str:
    """The value part of a `key = value` completion: valid TOML as it is inserted. As a
    snippet, the placeholder holds the value only (inside the quotes of a string, which
    stay), so what the user types there is the string's text."""
    value = example if example is not None else _example(spec, connection)
    if not snippets:
        return value
    if spec.values and spec.type == "string":
        choices = ",".join(_snippet_escape(v).replace(",", "\\,").replace("|", "\\|") for v in spec.values)
        return f'"${{1|{choices}|}}"'
    if spec.type == "boolean":
        return "${1|true,false|}"
    if len(value) >= 2 and value[0] == value[-1] == '"':
        inner = value[1:-1]
        return f'"${{1:{_snippet_escape(inner)}}}"' if inner else '"$1"'
    return f"${{1:{_snippet_escape(value)}}}"


def _key_item(
    spec: model.KeySpec,
    start: int,
    end: int,
    sort: str,
    snippets: bool,
    detail: str,
    connection: str | None = None,
    example: str | None = None,
    *,
    name_only: bool = False,
) -> Completion:
    """`key = value` with an example value: a snippet whose placeholder is the value, or
    (for a client without snippets) the whole pair, valid TOML to edit; the name alone
    when the line already holds `= value` after the word (``name_only``)."""
    if name_only:
        text, snippet = spec.name, False
    else:
        text, snippet = f"{spec.name} = {value_snippet(spec, connection, snippets, example)}", snippets
    return Completion(
        spec.name,
        "key",
        text,
        start,
        end,
        detail=detail,
        documentation=spec.doc_markdown(),
        sort_text=sort,
        snippet=snippet,
    )


def _root_entries_after(a: Analysis, offset: int) -> bool:
    """Whether a `key = value` of the file level follows ``offset`` (a table header
    inserted there would take it into the new table)."""
    for it in a.parsed.items:
        if isinstance(it, Header):
            return False
        if it.start >= offset:
            return True
    return False


def _complete_keys(
    a: Analysis,
    offset: int,
    path: tuple[str, ...],
    word: str,
    snippets: bool,
    *,
    inline: bool,
    typed: dict[str, str] | None = None,
) -> list[Completion]:
    """Keys for the table at ``path``; ``typed`` holds pairs already on an unparsed line.

    An item replaces the whole key under the cursor; when `= value` follows it, the
    item writes the key's name only."""
    start = offset - len(word)
    end = _tail_end(a, offset, _KEY_TAIL)
    word += a.text[offset:end]
    name_only = _VALUE_AFTER.match(a.text, end) is not None
    typed = typed or {}
    items: list[Completion] = []
    if path == ():
        names = a.connection_names()
        if a.default is None:
            example = f'"{names[0]}"' if names and '"' not in names[0] and "\\" not in names[0] else '"dev"'
            spec = model.TOP_KEYS["default"]
            items.append(
                _key_item(spec, start, end, "1", snippets, "the CLI's connection", example=example, name_only=name_only)
            )
        free = _free_name(a)
        if _root_entries_after(a, offset) or inline:
            # a header here would take the keys below into the new table: a dotted key
            spec = model.CONNECTION_KEYS["instance"]
            insert = f"connections.{free}.instance = {spec.placeholder}"
            if snippets:
                value = value_snippet(spec, None, True).replace("${1:", "${2:")
                insert = f"connections.${{1:{free}}}.instance = {value}"
            detail = "connections.<name>.instance = …"
        else:
            insert = f"[connections.${{1:{free}}}]\n$0" if snippets else f"[connections.{free}]\n"
            detail = "[connections.<name>]: a new connection"
        items.append(
            Completion(
                "connections",
                "table",
                "connections" if name_only else insert,
                start,
                end,
                detail=detail,
                documentation=model.CONNECTIONS_DOC,
                sort_text="2",
                snippet=snippets and not name_only,
            )
        )
        return items
    if path[0] != "connections" or len(path) < 2:
        if path == ("connections",):
            dotted_end = end + 1 if a.text.startswith(".", end) else end  # `prod.` replaced by `prod.`
            return [
                Completion(
                    name,
                    "table",
                    _quote_key(name) + ".",
                    start,
                    dotted_end,
                    detail="an existing connection",
                    sort_text="1" + name,
                )
                for name in a.connection_names()
            ]
        return []
    c = a.connection(path[1])
    rel = path[2:]
    if rel == ():
        grant, pkce = c.grant_and_pkce() if c is not None else (None, True)
        client = c.client if c is not None else None
        if "client" in typed and typed["client"] in model.CLIENT_VALUES:
            client = typed["client"]
        if "grant_type" in typed:
            grant = model.canonical_grant(typed["grant_type"]) or grant
        # the key under the cursor is being rewritten: it is offered again
        present = ((set(c.keys) if c else set()) | set(typed)) - {word}
        algorithm: object = typed.get("jwt_algorithm")
        if algorithm is None and c is not None and "jwt_algorithm" in c.keys:
            algorithm = c.keys["jwt_algorithm"].value.data
        required = model.required_keys(grant, pkce=pkce, client=client, jwt_algorithm=algorithm)
        for name, spec in model.CONNECTION_KEYS.items():
            if name in present or model.is_ignored(name, grant, client):
                continue
            if name in required:
                sort, detail = (
                    f"0{required.index(name):02d}",
                    "required"
                    + (f" for `{grant}`" if grant and name not in ("instance", "grant_type", "client_id") else ""),
                )
            else:
                sort, detail = f"1{name}", "optional"
            items.append(_key_item(spec, start, end, sort, snippets, detail, path[1], name_only=name_only))
        if c is None or (not c.token_defined and not inline):
            items.append(
                Completion(
                    "token",
                    "table",
                    "token" if name_only else _TOKEN_SNIPPET if snippets else 'token.access_token = ""',
                    start,
                    end,
                    detail="the stored token (written by Fetch token)",
                    documentation=model.TOKEN_TABLE_DOC,
                    sort_text="9",
                    snippet=snippets and not name_only,
                )
            )
        if c is None or (not c.export_defined and not inline):
            items.append(
                Completion(
                    model.EXPORT_TABLE,
                    "table",
                    'export.${1:dotenv} = "${2:.env}"' if snippets else 'export.dotenv = ".env"',
                    start,
                    offset,
                    detail="files kept fresh with the token",
                    documentation=model.EXPORT_TABLE_DOC,
                    sort_text="1" + model.EXPORT_TABLE,  # among the optional keys
                    snippet=snippets,
                )
            )
        return items
    if rel == (model.EXPORT_TABLE,):
        present = (set(c.export) if c else set()) | set(typed)
        return [
            _key_item(spec, start, offset, f"0{i}", snippets, "export", path[1])
            for i, (name, spec) in enumerate(model.EXPORT_KEYS.items())
            if name not in present
        ]
    if rel == ("token",):
        present = ((set(c.token) if c else set()) | set(typed)) - {word}
        return [
            _key_item(spec, start, end, f"0{i}", snippets, "token", path[1], name_only=name_only)
            for i, (name, spec) in enumerate(model.TOKEN_KEYS.items())
            if name not in present
        ]
    return []


_TOKEN_SNIPPET = 'token.${1:access_token} = "$2"'
_ENV_PARTIAL = re.compile(r"\$\{env:([A-Za-z0-9_]*)$")
_ENV_TAIL = re.compile(r"[A-Za-z0-9_]*")


def _closing_quote(a: Analysis, offset: int) -> str:
    """`"` when the string open at ``offset`` is not closed later on its line."""
    line_end = a.index.offset(a.index.position(offset)[0], 10**9)
    return "" if '"' in a.text[offset:line_end] else '"'


def _references(
    connection: str, key: str, start: int, end: int, snippets: bool, quote: str, close: str, sort: str = ""
) -> list[Completion]:
    """`${env:…}`, `${file:…}` and `${prompt}` as whole references, ``quote`` before and
    ``close`` after each (the string's quotes the text lacks)."""
    var, path = env_name(connection, key), f"{key}.txt"
    refs = [
        ("${env:…}", f"${{env:{var}}}", f"\\${{env:${{1:{var}}}\\}}", "an environment variable (or .env)"),
        ("${file:…}", f"${{file:{path}}}", f"\\${{file:${{1:{path}}}\\}}", "the contents of a file"),
        ("${prompt}", "${prompt}", "\\${prompt\\}", "ask at fetch time"),
    ]
    return [
        Completion(
            f"{quote}{label}{close}",
            "reference",
            f"{quote}{snippet if snippets else plain}{close}",
            start,
            end,
            detail=detail,
            sort_text=f"{sort}{i}",
            snippet=snippets,
            filter_text=quote + label.split("…")[0].rstrip("}"),
        )
        for i, (label, plain, snippet, detail) in enumerate(refs)
    ]


def _complete_value(
    a: Analysis, offset: int, path: tuple[str, ...], typed: str, env: Environment, snippets: bool
) -> list[Completion]:
    if len(path) < 3 or path[0] != "connections":
        if path == ("default",):
            start = offset - len(typed)
            # the rest of the string after the cursor (an auto-closed quote too) is replaced
            end = _tail_end(a, offset, _STRING_TAIL if typed.startswith('"') else _KEY_TAIL)
            return [
                Completion(f'"{n}"', "value", f'"{n}"', start, end, detail="connection", sort_text=n)
                for n in a.connection_names()
                if '"' not in n and "\\" not in n
            ]
        return []
    key = path[-1]
    spec = model.CONNECTION_KEYS.get(key) if len(path) == 3 else None
    if spec is None:
        return []
    if typed.startswith('"') and typed.count('"') == 1:
        inner = typed[1:]
        m = _ENV_PARTIAL.search(inner)
        if m:
            start = offset - len(m.group(1))
            end = _tail_end(a, offset, _ENV_TAIL)
            names = sorted(set(env.env) | set(env.dotenv))
            close = "" if a.text.startswith("}", end) else "}" + _closing_quote(a, end)
            prefer = f"SNOW_{path[1].upper()}_"
            return [
                Completion(
                    n,
                    "variable",
                    n + close,
                    start,
                    end,
                    detail="from .env" if n in env.dotenv and n not in env.env else "environment variable",
                    sort_text=("0" if n.startswith(("SNOW", prefer)) else "1") + n,
                )
                for n in names
            ]
        if inner.startswith("$") or (inner == "" and spec.type == "string" and spec.values is None):
            if not (spec.secret or inner.startswith("$")):
                return []
            end = _tail_end(a, offset, _REFERENCE_TAIL)
            return _references(path[1], key, offset - len(inner), end, snippets, "", _closing_quote(a, end))
        if spec.values:
            start = offset - len(typed)
            end = _tail_end(a, offset, _STRING_TAIL)
            return _choices(spec.values, key, start, end, quoted=True)
        return []
    if typed.strip() and not re.fullmatch(r"[A-Za-z\"]*", typed.strip()):
        return []
    start = offset - len(typed)
    end = _tail_end(a, offset, _BARE_TAIL)
    if spec.type == "boolean":
        return [Completion(v, "value", v, start, end, detail=key, sort_text=v) for v in ("true", "false")]
    if spec.values:
        return _choices(spec.values, key, start, end, quoted=False)
    if spec.secret and not typed:
        return _references(path[1], key, start, offset, snippets, '"', '"')
    return []


def _choices(values: Mapping[str, str], key: str, start: int, end: int, *, quoted: bool) -> list[Completion]:
    """A key's allowed values, each inserted quoted, in the model's order; filtered on the
    text typed, with its opening quote when the value is typed inside one."""
    return [
        Completion(
            v,
            "value",
            f'"{v}"',
            start,
            end,
            detail=key,
            documentation=doc,
            sort_text=f"{i:02d}",
            filter_text=f'"{v}' if quoted else v,
        )
        for i, (v, doc) in enumerate(values.items())
    ]
