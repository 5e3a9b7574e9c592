"""The rules of ARCHITECTURE.md about who may import whom, read from the source.

test_core_is_protocol_free.py proves at run time that importing the core loads no protocol
stack; this file proves the same rules statically, for every import statement wherever
it stands (a function-level import too), so that a late import cannot hide a dependency:

- data flows one way: nothing outside ``lsp/`` imports the language server, and the
  emulator and the token exchange import neither the server nor each other;
- the core never names httpx, pygls or lsprotocol, and reaches the token exchange in one
  place only, the token workflow;
- the scanner, positions and the model stand alone; the document layer builds on the
  scanner and the model only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import snowauth

PACKAGE = Path(snowauth.__file__).parent
ENTRY_POINTS = {
    "snowauth.cli",
    "snowauth.__main__",
    "snowauth.token_cli",
    "snowauth.exec_cli",
    "snowauth.register_cli",
    "snowauth.doctor_cli",
}
PROTOCOL_STACK = {"httpx", "httpcore", "pygls", "lsprotocol"}
# the core modules that run the exchange (the CLI and the server call them): the token
# workflow, register's Table API requests as an admin, and the doctor (it probes the
# instance and reads its records) (ARCHITECTURE.md)
EXCHANGE_CALLERS = {"snowauth.workflow", "snowauth.register", "snowauth.doctor"}
# modules at the bottom: they import no other snowauth module
STANDALONE = {
    "snowauth.syntax",
    "snowauth.positions",
    "snowauth.model",
    "snowauth.findings",
    "snowauth.tokens",
    "snowauth.instance_records",
}
# what the document layer may build on
DOCUMENT_BASE = {"snowauth.model", "snowauth.syntax"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports(path: Path) -> set[str]:
    """Every module an import statement in the file names, resolved to absolute names."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            # `from snowauth import connections` names the module snowauth.connections
            found.update(f"{base}.{a.name}" for a in node.names if _is_module(f"{base}.{a.name}"))
    return found


MODULES = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _core() -> list[str]:
    outside = ("snowauth.lsp", "snowauth.oauth", "snowauth.emulator")
    return sorted(m for m in MODULES if m not in ENTRY_POINTS and not any(_inside(m, p) for p in outside))


def test_the_source_walk_sees_every_layer() -> None:
    for expected in ("snowauth.syntax", "snowauth.workflow", "snowauth.lsp.server", "snowauth.oauth.client"):
        assert expected in MODULES
    assert "snowauth.lsp.server" in MODULES["snowauth.lsp.commands"]
    assert "snowauth.syntax" in MODULES["snowauth.document"]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if not _inside(m, "snowauth.lsp")))
def test_only_the_language_server_and_its_entry_point_import_it(module: str) -> None:
    named = {i for i in MODULES[module] if _inside(i, "snowauth.lsp")}
    if module == "snowauth.cli":  # `snowauth lsp` starts it
        assert named <= {"snowauth.lsp", "snowauth.lsp.main"}
    else:
        assert named == set()


@pytest.mark.parametrize("package", ["snowauth.oauth", "snowauth.emulator"])
def test_the_exchange_and_the_emulator_stay_apart(package: str) -> None:
    other = "snowauth.emulator" if package == "snowauth.oauth" else "snowauth.oauth"
    for module, imports in MODULES.items():
        if _inside(module, package):
            assert not {i for i in imports if _inside(i, other) or _inside(i, "snowauth.lsp")}, module


@pytest.mark.parametrize("module", _core())
def test_the_core_names_no_protocol_stack_and_reaches_the_exchange_through_the_workflow(module: str) -> None:
    imports = MODULES[module]
    assert not {i for i in imports if i.split(".")[0] in PROTOCOL_STACK}
    reaches_exchange = {i for i in imports if _inside(i, "snowauth.oauth")}
    assert reaches_exchange == set() or module in EXCHANGE_CALLERS, sorted(reaches_exchange)


@pytest.mark.parametrize("module", sorted(STANDALONE))
def test_the_bottom_layer_stands_alone(module: str) -> None:
    others = {i for i in MODULES[module] if _inside(i, "snowauth") and i != "snowauth" and i != module}
    allowed = {"snowauth.redact"} if module == "snowauth.tokens" else set()  # a token registers its secrets
    assert others <= allowed


def test_the_document_layer_builds_on_the_scanner_and_the_model_only() -> None:
    own = {i for i in MODULES["snowauth.document"] if _inside(i, "snowauth") and i != "snowauth"}
    assert own <= DOCUMENT_BASE
