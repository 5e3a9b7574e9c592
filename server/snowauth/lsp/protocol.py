"""pygls' protocol with five changes: we own document text, errors carry no data, a
result already written as JSON (``convert.RawJson``, ``RawTokens``) is sent as it is, a
command whose handler takes ``*args`` gets the arguments as they came, and a message's
kind (request, notification, response, error) is told once per message class.

pygls keeps its own copy of each document and splits lines on characters LSP does not
treat as line breaks (U+2028, form feed…); ``lsp.documents`` keeps ours instead. pygls
puts a traceback into an error reply's ``data``, which could carry secrets: we drop it.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import logging
from collections.abc import Generator
from typing import Any

from lsprotocol import types as t
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol, lsp_method
from pygls.protocol.json_rpc import RPCNotification, RPCRequest, RPCResponse

from snowauth.lsp.convert import RawJson, RawTokens


class _Answered:
    """A request that could not be read and was answered with an error already."""

    jsonrpc = "answered"


_pygls_log = logging.getLogger("pygls.protocol.json_rpc")


def _kind(message: Any) -> str:
    """What pygls' ``handle_message`` makes of a message: the same checks, in its order
    (runtime-checked protocols: ~40 µs each, three for every response)."""
    if isinstance(message, RPCRequest):
        return "request"
    if isinstance(message, RPCNotification):
        return "notification"
    if isinstance(message, RPCResponse):
        return "response"
    return "error"


class SnowauthProtocol(LanguageServerProtocol):
    #: the tasks running `workspace/executeCommand` requests, by request id: pygls runs a
    #: command as a separate task that `$/cancelRequest` does not reach
    running_commands: dict[Any, asyncio.Task[Any]]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.running_commands = {}
        self._variadic: dict[Any, bool] = {}  # command handler -> it takes only *args
        self._kinds: dict[type, str] = {}  # message class -> _kind (attrs classes: fixed attributes)

    @lsp_method(t.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(self, params: t.ExecuteCommandParams) -> Generator[Any, Any, Any]:
        """A handler that takes only ``*args`` (every command of ours: lsp/commands.py)
        gets the arguments as they came, which is what pygls gives it too, without
        evaluating its annotations and signature again at every run (~0.3 ms of a token
        fetch: docs/performance.md); any other goes through pygls."""
        handler = self.fm.commands.get(params.command)
        if handler is not None and self._takes_only_args(handler):
            result = yield handler, tuple(params.arguments or ()), None
            return result
        return (yield from super().lsp_workspace__execute_command(params))

    def _takes_only_args(self, handler: Any) -> bool:
        found = self._variadic.get(handler)
        if found is None:
            try:
                kinds = [p.kind for p in inspect.signature(handler).parameters.values()]
            except (TypeError, ValueError):
                kinds = []
            found = self._variadic[handler] = kinds == [inspect.Parameter.VAR_POSITIONAL]
        return found

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        task = self.running_commands.pop(msg_id, None)
        if task is not None and not task.done():
            task.cancel()
        super()._handle_cancel_notification(msg_id)

    def _user(self, method: str, params: Any) -> Generator[Any, Any, None]:
        if (handler := self.fm.features.get(method)) is not None:
            yield handler, (params,), None

    @lsp_method(t.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: t.DidOpenTextDocumentParams) -> Generator[Any, Any, None]:
        yield from self._user(t.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(t.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(self, params: t.DidChangeTextDocumentParams) -> Generator[Any, Any, None]:
        yield from self._user(t.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(t.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(self, params: t.DidCloseTextDocumentParams) -> Generator[Any, Any, None]:
        yield from self._user(t.TEXT_DOCUMENT_DID_CLOSE, params)

    def structure_message(self, data: dict[str, Any]) -> Any:
        """pygls drops a request whose params do not fit its method, and the client waits
        forever: answer it with Invalid Params instead (without echoing the params)."""
        try:
            return super().structure_message(data)
        except JsonRpcException:
            if isinstance(data, dict) and "id" in data and "method" in data and "error" not in data:
                error = JsonRpcInvalidParams(f"Invalid params for {str(data['method'])[:100]}")
                self._send_response(data["id"], error=error.to_response_error())
                return _Answered()
            raise

    def handle_message(self, message: Any) -> None:
        """pygls' dispatch, with the kind of each message class found once: pygls asks
        three runtime-checked protocols per message (~0.3 ms of a token fetch, 80 µs of
        every keystroke: docs/performance.md). The messages pygls structures are attrs
        classes, whose instances all have the same attributes. A message of another
        version, one after shutdown, and pygls' debug trace take pygls' own path."""
        if isinstance(message, _Answered):
            return
        if message.jsonrpc != self.VERSION or self._shutdown or _pygls_log.isEnabledFor(logging.DEBUG):
            super().handle_message(message)
            return
        kind = self._kinds.get(type(message))
        if kind is None:
            kind = self._kinds[type(message)] = _kind(message)
        ctx = contextvars.copy_context()  # each handler runs in its own context, as in pygls
        if kind == "request":
            ctx.run(self._handle_request, message.id, message.method, message.params)
        elif kind == "notification":
            ctx.run(self._handle_notification, message.method, message.params)
        elif kind == "response":
            ctx.run(self._handle_response, message.id, message.result)
        else:
            ctx.run(self._handle_response, message.id, None, message.error)

    def _send_response(self, msg_id: Any, result: Any | None = None, error: Any | None = None) -> None:
        if error is not None and getattr(error, "data", None) is not None:
            error.data = None
        super()._send_response(msg_id, result=result, error=error)

    def _send_data(self, data: Any) -> None:
        """A response whose result is JSON text already (a long file's outline, its
        lenses) is written around that text, not serialized again."""
        result = getattr(data, "result", None)
        if (
            not isinstance(result, (RawJson, RawTokens))
            or self.writer is None
            or getattr(data, "error", None) is not None
        ):
            super()._send_data(data)
            return
        before = ('{"id":' + json.dumps(data.id) + ',"jsonrpc":"2.0","result":').encode()
        if self._include_headers:
            length = len(before) + result.size() + 1
            header = f"Content-Length: {length}\r\nContent-Type: {self.CONTENT_TYPE}; charset={self.CHARSET}\r\n\r\n"
            before = header.encode("ascii") + before
        for chunk in result.chunks(before, b"}"):  # never the whole answer in one copy
            res = self.writer.write(chunk)
            if inspect.isawaitable(res):
                asyncio.ensure_future(res)  # noqa: RUF006 (as pygls does)
