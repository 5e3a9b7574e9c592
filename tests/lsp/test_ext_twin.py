"""snowauth's own protocol is spelled twice: server/snowauth/lsp/ext.py and the VS Code
extension's client-vscode/src/protocol.ts. These tests parse the TypeScript file and
compare: the same constants (names and values: methods, capability names, command ids,
action titles), the same action map, the same interfaces with the same required and
optional fields."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest

from snowauth.lsp import ext

PROTOCOL_TS = Path(__file__).resolve().parents[2] / "client-vscode" / "src" / "protocol.ts"

_CONST = re.compile(r"""^export const (\w+) = (?:'([^'\\]*)'|"([^"\\]*)");$""", re.MULTILINE)
_ACTIONS = re.compile(r"^export const ACTIONS = \{\n(.*?)\n\} as const;$", re.MULTILINE | re.DOTALL)
_ACTION = re.compile(r"^\s*(\w+): (\w+),?$")
_INTERFACE = re.compile(r"^export interface (\w+) \{\n(.*?)\n\}$", re.MULTILINE | re.DOTALL)
_FIELD = re.compile(r"^\s*(\w+)(\??): ")
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)


def _ts() -> str:
    return PROTOCOL_TS.read_text(encoding="utf-8")


def ts_constants(text: str) -> dict[str, str]:
    """Every ``export const NAME = '...';`` (a string, on one line)."""
    out: dict[str, str] = {}
    for m in _CONST.finditer(text):
        assert m.group(1) not in out, f"{m.group(1)} is exported twice"
        out[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
    return out


def ts_actions(text: str, constants: dict[str, str]) -> dict[str, str]:
    """``ACTIONS``: action name -> the value of the constant it names."""
    block = _ACTIONS.search(text)
    assert block is not None, "protocol.ts has no `export const ACTIONS = {…} as const;`"
    out: dict[str, str] = {}
    for line in block.group(1).splitlines():
        m = _ACTION.match(line)
        assert m is not None, f"cannot read the ACTIONS line {line!r}"
        assert m.group(2) in constants, f"ACTIONS.{m.group(1)} names {m.group(2)}, which is no string constant"
        out[m.group(1)] = constants[m.group(2)]
    return out


def ts_interfaces(text: str) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Each interface's (required, optional) field names."""
    out: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for m in _INTERFACE.finditer(text):
        required: set[str] = set()
        optional: set[str] = set()
        for line in _COMMENT.sub("", m.group(2)).splitlines():
            if not line.strip():
                continue
            field = _FIELD.match(line)
            assert field is not None, f"cannot read the field line {line!r} of {m.group(1)}"
            (optional if field.group(2) else required).add(field.group(1))
        out[m.group(1)] = (frozenset(required), frozenset(optional))
    return out


def py_constants() -> dict[str, str]:
    return {name: value for name, value in vars(ext).items() if name.isupper() and isinstance(value, str)}


def py_shapes() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    return {
        name: (value.__required_keys__, value.__optional_keys__)
        for name, value in vars(ext).items()
        if isinstance(value, type) and typing.is_typeddict(value)
    }


def test_every_method_capability_and_command_id_is_in_both() -> None:
    ours, theirs = py_constants(), ts_constants(_ts())
    assert ours == theirs
    methods = {v for v in ours.values() if v.startswith("snowauth/")}
    assert methods == {ext.LIST_CONNECTIONS, ext.PROMPT_SECRET}
    assert set(ext.COMMAND_IDS) <= set(theirs.values())
    assert len(ext.COMMAND_IDS) == len(set(ext.COMMAND_IDS)) == 7


def test_the_action_map_is_the_same() -> None:
    text = _ts()
    assert ts_actions(text, ts_constants(text)) == dict(ext.ACTIONS)
    assert set(ext.ACTIONS.values()) == set(ext.COMMAND_IDS)


def test_every_shape_has_the_same_fields() -> None:
    ours, theirs = py_shapes(), ts_interfaces(_ts())
    assert sorted(ours) == sorted(theirs)
    for name, (required, optional) in ours.items():
        assert theirs[name] == (required, optional), name


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("export const A = 'x';\nexport const B = \"y\";\nconst C = 'z';\n", {"A": "x", "B": "y"}),
        ("export const A = 'x' + 'y';\nexport const N = 1;\n", {}),
    ],
)
def test_the_constant_reader_reads_string_constants_only(text: str, found: dict[str, str]) -> None:
    assert ts_constants(text) == found


def test_the_interface_reader_tells_optional_fields_and_skips_comments() -> None:
    text = "export interface X {\n  /** a: not a field */\n  a: string;\n  b?: number; // c: no\n}\n"
    assert ts_interfaces(text) == {"X": (frozenset({"a"}), frozenset({"b"}))}


def test_a_constant_missing_from_protocol_ts_is_noticed() -> None:
    text = _ts().replace("export const REVOKE_TOKEN = 'snowauth.revokeToken';\n", "")
    assert "REVOKE_TOKEN" not in ts_constants(text)
    assert ts_constants(text) != py_constants()


def test_every_token_action_the_core_names_has_a_command() -> None:
    # the core's quick fixes and lenses name an action; the server runs its command
    from snowauth.findings import TokenAction

    assert set(typing.get_args(TokenAction)) == set(ext.ACTIONS)
