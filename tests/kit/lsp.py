"""The language server over stdio for the tests: the server command, pytest-lsp session
fixtures per client preset, a client that records every pushed diagnostic with its
version, opening and changing documents, waiting for diagnostics, the :class:`Editor`
(documents the way an editor keeps them), raw JSON-RPC messages through the client's own
transport, and the server process's pid and memory."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import IO, Any

import pytest
import pytest_lsp
from lsprotocol import types as t
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, default_feature, register_lsp_features

from snowauth.lsp.convert import Converter
from snowauth.positions import LineIndex

SERVER = [sys.executable, "-m", "snowauth", "lsp"]
PRESETS = ("visual-studio-code", "neovim")

SEVERITY = {"error": 1, "warning": 2, "information": 3, "hint": 4}


def _keep_registrations(ls: Any, params: t.RegistrationParams) -> None:
    ls.registrations = [*getattr(ls, "registrations", []), *params.registrations]


def accept_registrations() -> None:
    """Make test clients accept a server's dynamic registrations (file watchers), as VS
    Code and Neovim do, and keep them (``client.registrations``) for the tests to look at.
    Call once, before any client is made (tests/conftest.py does)."""
    default_feature(t.CLIENT_REGISTER_CAPABILITY)(_keep_registrations)


# -- sessions -------------------------------------------------------------------------------------


def open_doc(client: LanguageClient, uri: str, text: str, version: int = 1) -> None:
    client.text_document_did_open(
        t.DidOpenTextDocumentParams(
            t.TextDocumentItem(uri=uri, language_id="snowauth-toml", version=version, text=text)
        )
    )


async def diagnostics(client: LanguageClient, uri: str, version: int | None = None) -> list[t.Diagnostic]:
    """The document's diagnostics, pulled when the client pulls, else the pushed ones
    for ``version`` (waiting for them)."""
    pull = (
        client.capabilities is not None
        and client.capabilities.text_document is not None
        and client.capabilities.text_document.diagnostic is not None
    )  # type: ignore[union-attr]
    if pull:
        report = await client.text_document_diagnostic_async(
            t.DocumentDiagnosticParams(text_document=t.TextDocumentIdentifier(uri))
        )
        assert isinstance(report, t.RelatedFullDocumentDiagnosticReport)
        return list(report.items)

    async def wait() -> list[t.Diagnostic]:
        while True:
            params = await client.wait_for_notification(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
            if params.uri == uri and (version is None or params.version == version):
                return list(params.diagnostics)

    if uri in client.diagnostics and version is None:
        return list(client.diagnostics[uri])
    return await asyncio.wait_for(wait(), 10)


def change(
    client: LanguageClient,
    uri: str,
    version: int,
    line: int,
    col: int,
    end_line: int,
    end_col: int,
    text: str,
) -> None:
    """Replace the range (line, col)–(end_line, end_col) of document ``uri`` by ``text``."""
    rng = t.Range(t.Position(line, col), t.Position(end_line, end_col))
    did_change(client, uri, version, [t.TextDocumentContentChangePartial(range=rng, text=text)])


def preset_capabilities(preset: str) -> t.ClientCapabilities:
    """pytest-lsp's client preset, or one of ours: "pull" is VS Code (UTF-16) pulling
    diagnostics, document and workspace, and taking refresh requests; "push" is Neovim
    (UTF-8 first) with pushed diagnostics."""
    if preset == "pull":
        caps = client_capabilities("visual-studio-code")
        assert caps.text_document is not None and caps.workspace is not None
        caps.text_document.diagnostic = t.DiagnosticClientCapabilities(related_document_support=False)
        caps.workspace.diagnostics = t.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
        return caps
    if preset == "push":
        return capabilities("utf-8")
    return client_capabilities(preset)


def session_fixture(
    *,
    presets: tuple[str, ...] = ("visual-studio-code",),
    env: dict[str, str] | None = None,
    prompt: bool = True,
    options: dict[str, Any] | None = None,
    workspace: str | None = None,
    drop_env: tuple[str, ...] = (),
    recording: bool = False,
) -> Any:
    """A pytest-lsp fixture running `snowauth lsp` with ``env`` added to the environment
    (and ``drop_env`` removed from it), once per client preset (``preset_capabilities``);
    ``prompt`` declares `experimental.snowauth.promptSecret`. The test can pass
    `initializationOptions` through ``request.param`` of a preset written as
    "preset|untrusted" (and "|open-only": no workspace-wide diagnostics; both:
    "preset|untrusted,open-only"); ``options`` adds to them. ``workspace`` names a fixture
    giving the folder opened as the workspace (`rootUri` and `workspaceFolders`), made
    before the server starts; ``recording`` makes the client ``make_client``'s. The
    server's answer is ``client.initialize_result``."""

    @pytest_lsp.fixture(
        config=ClientServerConfig(
            server_command=SERVER,
            server_env={**{k: v for k, v in os.environ.items() if k not in drop_env}, **(env or {})},
            **({"client_factory": make_client} if recording else {}),
        ),
        params=list(presets),
    )
    async def client(request: pytest.FixtureRequest, lsp_client: LanguageClient) -> AsyncIterator[LanguageClient]:
        preset, _, mode = str(request.param).partition("|")
        caps = preset_capabilities(preset)
        if prompt:
            caps.experimental = {"snowauth": {"promptSecret": True}}
        modes = set(mode.split(","))
        init: dict[str, Any] = {"trusted": "untrusted" not in modes, **(options or {})}
        if "open-only" in modes:
            init["workspaceDiagnostics"] = False
        root: Path | None = request.getfixturevalue(workspace) if workspace else None
        folders = [t.WorkspaceFolder(uri=root.as_uri(), name=root.name)] if root else None
        result = await lsp_client.initialize_session(
            t.InitializeParams(
                capabilities=caps,
                initialization_options=init,
                root_uri=root.as_uri() if root else None,
                workspace_folders=folders,
            )
        )
        lsp_client.initialize_result = result  # type: ignore[attr-defined]
        lsp_client.trusted_workspace = "untrusted" not in modes  # type: ignore[attr-defined]
        yield lsp_client
        await lsp_client.shutdown_session()

    return client


# -- recording client ---------------------------------------------------------------------------


def _publish(ls: LanguageClient, params: t.PublishDiagnosticsParams) -> None:
    ls.diagnostics[params.uri] = params.diagnostics
    ls.published[params.uri] = (params.version, list(params.diagnostics))  # type: ignore[attr-defined]
    ls.publish_count += 1  # type: ignore[attr-defined]


def _refreshed(kind: str) -> Any:
    def refresh(ls: LanguageClient, _params: None) -> None:
        ls.refreshes.append(kind)  # type: ignore[attr-defined]

    return refresh


def _confirm(ls: LanguageClient, params: t.ShowMessageRequestParams) -> t.MessageActionItem | None:
    """The user's answer to "Send the credentials … to <host>?": Cancel, unless the test
    set ``send_to_new_hosts``."""
    ls.questions.append(params.message)  # type: ignore[attr-defined]
    wanted = "Send" if ls.send_to_new_hosts else "Cancel"  # type: ignore[attr-defined]
    return next((a for a in params.actions or [] if a.title == wanted), None)


def make_client() -> LanguageClient:
    """pytest-lsp's test client, recording ``(version, diagnostics)`` per URI, and a user
    who answers the server's questions (``window/showMessageRequest``)."""
    client = LanguageClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features[t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = _publish
    features[t.WINDOW_SHOW_MESSAGE_REQUEST] = _confirm
    # the refreshes a client that declares them answers (Neovim's capabilities declare the
    # inlay hints'): recorded in ``client.refreshes``, which an Editor shares
    features[t.WORKSPACE_INLAY_HINT_REFRESH] = _refreshed("inlayHint")
    features[t.WORKSPACE_CODE_LENS_REFRESH] = _refreshed("codeLens")
    register_lsp_features(client, features)
    client.refreshes = []  # type: ignore[attr-defined]
    client.published = {}  # type: ignore[attr-defined]
    client.publish_count = 0  # type: ignore[attr-defined]
    client.questions = []  # type: ignore[attr-defined]
    client.send_to_new_hosts = False  # type: ignore[attr-defined]
    return client


def capabilities(encoding: str) -> t.ClientCapabilities:
    """VS Code's capabilities (UTF-16), or Neovim's (UTF-8 first) with pushed
    diagnostics instead of pulled ones."""
    if encoding == "utf-16":
        return client_capabilities("visual-studio-code")
    caps = client_capabilities("neovim")
    assert caps.text_document is not None
    caps.text_document.diagnostic = None
    return caps


async def wait_published(client: LanguageClient, uri: str, version: int | None, timeout: float = 20) -> list[Any]:
    """The diagnostics pushed for ``uri`` at ``version`` (waiting for them)."""
    deadline = time.monotonic() + timeout
    published: dict[str, tuple[int | None, list[t.Diagnostic]]] = client.published  # type: ignore[attr-defined]
    while True:
        got = published.get(uri)
        if got is not None and got[0] == version:
            return got[1]
        if time.monotonic() > deadline:
            raise TimeoutError(f"no diagnostics for {uri} version {version} (last: {got and got[0]}); {health(client)}")
        await asyncio.sleep(0.01)


def health(client: LanguageClient) -> str:
    """The state of the client's connection and of the server process, for a failure."""
    tasks = [
        f"task {i}: "
        + ("running" if not task.done() else repr(task.exception() if not task.cancelled() else "cancelled"))
        for i, task in enumerate(getattr(client, "_async_tasks", []))
    ]
    process = getattr(client, "_server", None)
    code = getattr(process, "returncode", "?")
    return f"server exit code {code}; client {', '.join(tasks) or 'no tasks'}; published {client.publish_count}"  # type: ignore[attr-defined]


def diag_key(d: t.Diagnostic, *, message: bool = False) -> tuple[Any, ...]:
    r = d.range
    key = (r.start.line, r.start.character, r.end.line, r.end.character, d.code, int(d.severity or 0))
    return (*key, d.message) if message else key


def change_event(text: str, start: int, end: int, new: str, encoding: str) -> t.TextDocumentContentChangePartial:
    conv = Converter(LineIndex(text), encoding)
    return t.TextDocumentContentChangePartial(range=conv.range(start, end), text=new)


def did_change(client: LanguageClient, uri: str, version: int, changes: list[Any]) -> None:
    client.text_document_did_change(
        t.DidChangeTextDocumentParams(t.VersionedTextDocumentIdentifier(uri=uri, version=version), changes)
    )


def answer_with(client: LanguageClient, method: str, handler: Callable[..., Any]) -> None:
    """Answer the server's ``method`` requests with ``handler`` (sync or async, given the
    params) instead of pytest-lsp's own answer, which pygls would not let a second
    ``client.feature`` replace."""
    client.protocol.fm.features[method] = handler


# -- raw JSON-RPC through the client's transport ------------------------------------------------


def raw_request(client: LanguageClient, msg_id: int | str, method: str, params: Any = None) -> Future[Any]:
    """Send any request (valid or not) and get a future of its answer: the result, or a
    JsonRpcException for an error reply. Nothing is validated on the way out."""
    future: Future[Any] = Future()
    client.protocol._request_futures[msg_id] = future
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        message["params"] = params
    client.protocol._send_data(message)
    return future


def raw_notify(client: LanguageClient, method: str, params: Any = None) -> None:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params
    client.protocol._send_data(message)


# -- LSP framing on a server's pipes, without a client library ---------------------------------------


def framed(body: bytes, length: int | None = None) -> bytes:
    """``body`` behind a Content-Length header (``length`` when it should lie)."""
    return b"Content-Length: %d\r\n\r\n" % (len(body) if length is None else length) + body


def read_message(stream: IO[bytes], pause: float = 0.0) -> Any:
    """One JSON-RPC message from a server's stdout: headers up to the empty line, then
    Content-Length bytes of JSON (after ``pause`` seconds, as a slow client); None at the
    end of the stream. A message without Content-Length raises ValueError."""
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        if line == b"\r\n":
            break
        name, _, value = line.decode("ascii").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length is None:
        raise ValueError("a message without Content-Length")
    if pause:
        time.sleep(pause)
    return json.loads(stream.read(length))


# -- the server process ----------------------------------------------------------------------------


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (2nd field) is in parentheses and may hold spaces
    return int(stat.rsplit(")", 1)[1].split()[1])


def server_pids() -> list[int]:
    """Children of this process whose command line is ``… snowauth lsp``, from /proc."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        if _ppid(pid) != me:
            continue
        cmd = _cmdline(pid)
        if "snowauth" in cmd and "lsp" in cmd:
            found.append(pid)
    return found


def server_pid(client: LanguageClient) -> int:
    """The pid of the client's server: found in /proc, checked against pytest-lsp's."""
    process = getattr(client, "_server", None)
    known = getattr(process, "pid", None)
    pids = server_pids()
    if known is not None:
        assert known in pids, (known, pids)
        return int(known)
    assert len(pids) == 1, pids
    return pids[0]


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def has_mapped(pid: int, package: str) -> bool:
    """Whether a process has loaded a compiled module of ``package`` (Linux
    ``/proc/PID/maps``): how a test sees from outside that a server imported pydantic
    (``pydantic_core``, its compiled core, loads with it)."""
    return f"/{package}/" in Path(f"/proc/{pid}/maps").read_text()


# -- the editor -----------------------------------------------------------------------------------


class Editor:
    """A tiny editor for a pytest-lsp client: it owns document texts, applies the server's
    `workspace/applyEdit` the way an editor does (refusing a stale version) and tells the
    server about every change with `didChange`, as VS Code and Neovim do."""

    def __init__(self, client: LanguageClient, encoding: str = "utf-16") -> None:
        self.client = client
        self.encoding = encoding
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self.applied: list[t.WorkspaceEdit] = []
        self.refuse_next = False

        recorded: list[str] | None = getattr(client, "refreshes", None)  # make_client's records them
        self.refreshes: list[str] = recorded if recorded is not None else []
        if recorded is None:

            @client.feature(t.WORKSPACE_CODE_LENS_REFRESH)
            def lens_refresh(_params: None) -> None:
                self.refreshes.append("codeLens")

            @client.feature(t.WORKSPACE_INLAY_HINT_REFRESH)
            def inlay_hint_refresh(_params: None) -> None:
                self.refreshes.append("inlayHint")

        @client.feature(t.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: t.ApplyWorkspaceEditParams) -> t.ApplyWorkspaceEditResult:
            return self.apply(params.edit)

    def open(self, uri: str, text: str) -> None:
        self.texts[uri] = text
        self.versions[uri] = 1
        open_doc(self.client, uri, text)

    def type(self, uri: str, offset: int, text: str) -> None:
        """The user types ``text`` at ``offset``."""
        self._change(uri, [(offset, offset, text)])

    def replace(self, uri: str, start: int, end: int, text: str) -> None:
        """The user replaces the text from ``start`` to ``end`` (code points) with ``text``."""
        self._change(uri, [(start, end, text)])

    def _change(self, uri: str, edits: list[tuple[int, int, str]]) -> None:
        text = self.texts[uri]
        changes = []
        for start, end, new in sorted(edits, key=lambda e: e[0], reverse=True):
            changes.append(change_event(text, start, end, new, self.encoding))
            text = text[:start] + new + text[end:]
        self.texts[uri] = text
        self.versions[uri] += 1
        did_change(self.client, uri, self.versions[uri], changes)

    def apply(self, edit: t.WorkspaceEdit) -> t.ApplyWorkspaceEditResult:
        if self.refuse_next:
            self.refuse_next = False
            return t.ApplyWorkspaceEditResult(applied=False, failure_reason="refused by the test")
        per_doc: list[tuple[str, int | None, list[t.TextEdit]]] = []
        for change in edit.document_changes or []:
            assert isinstance(change, t.TextDocumentEdit)
            per_doc.append((change.text_document.uri, change.text_document.version, list(change.edits)))  # type: ignore[arg-type]
        for uri, edits in (edit.changes or {}).items():
            per_doc.append((uri, None, list(edits)))
        for uri, version, _ in per_doc:
            if uri not in self.texts or (version is not None and version != self.versions[uri]):
                return t.ApplyWorkspaceEditResult(applied=False, failure_reason="document version changed")
        for uri, _, edits in per_doc:
            conv = Converter(LineIndex(self.texts[uri]), self.encoding)
            spans = [(conv.offset(e.range.start), conv.offset(e.range.end), e.new_text) for e in edits]
            self._change(uri, spans)
        self.applied.append(edit)
        return t.ApplyWorkspaceEditResult(applied=True)


def apply_everywhere(editor: Editor, edit: t.WorkspaceEdit) -> None:
    """Apply a workspace edit as an editor does for a rename: open documents through
    ``editor`` (a `didChange` each), the other files edited on disk (read, edited in
    ``editor.encoding``, written back byte for byte)."""
    per_doc: list[tuple[str, list[t.TextEdit]]] = []
    for change in edit.document_changes or []:
        assert isinstance(change, t.TextDocumentEdit)
        per_doc.append((change.text_document.uri, list(change.edits)))  # type: ignore[arg-type]
    per_doc += [(uri, list(edits)) for uri, edits in (edit.changes or {}).items()]
    for uri, edits in per_doc:
        text = editor.texts[uri] if uri in editor.texts else Path(uri.removeprefix("file://")).read_bytes().decode()
        conv = Converter(LineIndex(text), editor.encoding)
        spans = [(conv.offset(e.range.start), conv.offset(e.range.end), e.new_text) for e in edits]
        if uri in editor.texts:
            editor._change(uri, spans)
            continue
        for start, end, new in sorted(spans, key=lambda e: e[0], reverse=True):
            text = text[:start] + new + text[end:]
        Path(uri.removeprefix("file://")).write_bytes(text.encode())


class Watched:
    """The client's side: every request the server makes of the person (a secret prompt,
    a question such as the one before credentials go to a new host: never answered), every
    notification; :meth:`asked_nothing` says the server asked nothing of the person."""

    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.prompts: list[Any] = []
        self.questions: list[str] = []

        @client.feature("snowauth/promptSecret")
        def prompt(*args: Any) -> dict[str, str]:
            self.prompts.append(args[-1])
            return {"value": "demo-password"}

        @client.feature(t.WINDOW_SHOW_MESSAGE_REQUEST)
        def question(params: t.ShowMessageRequestParams) -> None:
            self.questions.append(params.message)  # and no answer

    def errors(self) -> list[str]:
        return [m.message for m in self.client.messages if m.type == t.MessageType.Error]

    def asked_nothing(self) -> None:
        assert self.prompts == [] and self.client.shown_documents == [] and self.questions == []


def apply_like_a_client(edit: t.WorkspaceEdit, editor: Editor) -> None:
    """Write a WorkspaceEdit to disk the way an editor does: it opens the file at the URI
    (following symbolic links, as every editor does), edits its text and saves it."""
    ops: list[tuple[str, list[t.TextEdit]]] = []
    for op in edit.document_changes or []:
        if isinstance(op, t.CreateFile):
            path = Path(op.uri.removeprefix("file://"))
            if not path.exists():
                path.write_text("", encoding="utf-8")
        elif isinstance(op, t.TextDocumentEdit):
            ops.append((op.text_document.uri, list(op.edits)))  # type: ignore[arg-type]
    ops += [(uri, list(edits)) for uri, edits in (edit.changes or {}).items()]
    for uri, edits in ops:
        path = Path(uri.removeprefix("file://"))
        text = editor.texts[uri] if uri in editor.texts else path.read_text(encoding="utf-8")
        conv = Converter(LineIndex(text), "utf-16")
        for e in sorted(edits, key=lambda e: conv.offset(e.range.start), reverse=True):
            text = text[: conv.offset(e.range.start)] + e.new_text + text[conv.offset(e.range.end) :]
        with open(path, "w", encoding="utf-8", newline="") as handle:  # follows links, like editors
            handle.write(text)


# -- inlay hints and semantic tokens -----------------------------------------------------------


async def inlay_hints(client: LanguageClient, uri: str, rng: t.Range) -> list[t.InlayHint]:
    """The server's inlay hints for ``rng`` of ``uri`` (none: an empty list)."""
    found = await client.text_document_inlay_hint_async(t.InlayHintParams(t.TextDocumentIdentifier(uri), rng))
    return list(found or [])


def decode_semantic_tokens(
    data: Sequence[int], types: Sequence[str], modifiers: Sequence[str]
) -> list[tuple[int, int, int, str, tuple[str, ...]]]:
    """(line, column, length, type, modifiers) of each token of a semantic tokens result."""
    assert len(data) % 5 == 0
    out = []
    line = col = 0
    for i in range(0, len(data), 5):
        dl, dc, length, kind, mods = data[i : i + 5]
        line, col = (line + dl, dc) if dl else (line, col + dc)
        out.append((line, col, length, types[kind], tuple(m for b, m in enumerate(modifiers) if mods >> b & 1)))
    return out


def apply_semantic_delta(data: list[int], delta: t.SemanticTokensDelta) -> list[int]:
    """``data`` with the edits of ``delta`` applied, as a client does (from the last one)."""
    for e in sorted(delta.edits, key=lambda e: e.start, reverse=True):
        data = data[: e.start] + list(e.data or []) + data[e.start + e.delete_count :]
    return data


# -- completion ------------------------------------------------------------------------------------


def negotiated_encoding(client: LanguageClient) -> str:
    """The position encoding the server picks for ``client``: the first it offers, else UTF-16."""
    general = client.capabilities.general if client.capabilities else None  # type: ignore[union-attr]
    offered = [str(getattr(e, "value", e)) for e in (general.position_encodings or [])] if general else []
    return offered[0] if offered else "utf-16"


_SNIPPET_PART = re.compile(
    r"\\([\\$}])"  # an escaped character
    r"|\$\{\d+\|((?:[^|\\]|\\.)*?)(?:,(?:[^|\\]|\\.)*)*\|\}"  # a choice: its first value
    r"|\$\{\d+:((?:[^}\\]|\\.)*)\}"  # a placeholder: its default
    r"|\$\{?\d+\}?"  # a tab stop
)


def expand_snippet(snippet: str) -> str:
    """The text an editor inserts for ``snippet`` when the user leaves every placeholder
    at its default (a choice at its first value, `$0` and bare tab stops empty)."""

    def one(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return m.group(1)
        inner = m.group(2) if m.group(2) is not None else m.group(3) or ""
        return re.sub(r"\\(.)", r"\1", inner)

    return _SNIPPET_PART.sub(one, snippet)


def accept_completion(text: str, item: t.CompletionItem, encoding: str) -> str:
    """``text`` after an editor accepts ``item`` with its edit's range (placeholders left
    at their defaults)."""
    edit = item.text_edit
    assert isinstance(edit, t.TextEdit), item
    assert edit.range.start.line == edit.range.end.line, "an item's edit stays on the cursor's line"
    conv = Converter(LineIndex(text), encoding)
    start, end = conv.offset(edit.range.start), conv.offset(edit.range.end)
    new = edit.new_text
    if item.insert_text_format == t.InsertTextFormat.Snippet:
        new = expand_snippet(new)
    return text[:start] + new + text[end:]


async def eventually(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    """Wait until ``check()`` holds (the server works in the background); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"still not {what} after {timeout} s")
        await asyncio.sleep(0.05)


# -- navigation: exact ranges without the server's converter -------------------------------------


def expected_range(text: str, start: int, end: int, encoding: str) -> t.Range:
    """The LSP range of ``text[start:end]`` (code points) in ``encoding``, counted here
    independently of ``lsp/convert`` (lines end at LF; a test's texts have no CR)."""

    def pos(offset: int) -> t.Position:
        line_start = text.rfind("\n", 0, offset) + 1
        before = text[line_start:offset]
        units = {
            "utf-8": len(before.encode("utf-8")),
            "utf-16": len(before.encode("utf-16-le")) // 2,
            "utf-32": len(before),
        }[encoding]
        return t.Position(text.count("\n", 0, offset), units)

    return t.Range(pos(start), pos(end))


def span_of(text: str, needle: str, nth: int = 0, *, within: str | None = None) -> tuple[int, int]:
    """The span of the ``nth`` ``needle`` in ``text`` (after the first ``within`` when given)."""
    at = text.index(within) if within is not None else 0
    for _ in range(nth + 1):
        at = text.index(needle, at)
        found, at = at, at + 1
    return found, found + len(needle)


def folding_wire(ranges: list[t.FoldingRange] | None) -> list[dict[str, Any]]:
    """Folding ranges as they came on the wire, in their order (the keys each one had)."""
    assert ranges is not None
    out = []
    for r in ranges:
        d: dict[str, Any] = {"startLine": r.start_line}
        if r.start_character is not None:
            d["startCharacter"] = r.start_character
        d["endLine"] = r.end_line
        if r.end_character is not None:
            d["endCharacter"] = r.end_character
        if r.kind is not None:
            d["kind"] = str(getattr(r.kind, "value", r.kind))
        out.append(d)
    return out
