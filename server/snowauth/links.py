"""Document links of a connection file (pure, no protocol): `${file:}` and key-file paths to
the file (only where `${file:}` may read: ``navigation.file_target``), `instance` to the
instance, `client_id` (and `client = "servicenow-sdk"`, the SDK's client) to its
Application Registry record. A link never carries a secret: values written as `${env:}`,
`${file:}` or `${prompt}` are not read, and only `instance` and `client_id` (public) go
into an address (docs/decisions.md, "Navigation, rename and links")."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from snowauth import instance_records as records
from snowauth import model
from snowauth.analysis import Analysis
from snowauth.document import Connection
from snowauth.instance import InstanceError, instance_url
from snowauth.navigation import file_target
from snowauth.secrets import Environment
from snowauth.syntax import Value


@dataclass(frozen=True, slots=True)
class Link:
    start: int
    end: int
    target: str
    tooltip: str | None = None


def links(a: Analysis, env: Environment) -> list[Link]:
    """Every link of the file, in the order of the text."""
    out: list[Link] = []
    for name in a.connection_names():
        c = a.connection(name)
        if c is not None:
            out.extend(connection_links(a.text, c, env))
    out.sort(key=lambda k: (k.start, k.end))
    return out


def _inner(text: str, v: Value) -> tuple[int, int]:
    q = 3 if text.startswith(('"""', "'''"), v.start) else 1
    return v.start + q, v.end - q


def _literal(v: Value) -> str | None:
    """A string value that is no reference (a reference is never read for a link)."""
    return str(v.data) if v.kind == "string" and "${" not in str(v.data) else None


def host_of(c: Connection) -> str | None:
    """`https://<host>` (scheme, host and port) of a written `instance`, else None."""
    a = c.keys.get("instance")
    value = _literal(a.value) if a is not None else None
    if not value:
        return None
    try:
        parts = urlsplit(instance_url(value))
    except InstanceError:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def registry_url(origin: str, client_id: str) -> str:
    """The instance's Application Registry list, filtered to ``client_id``."""
    return f"{origin}/oauth_entity_list.do?sysparm_query=client_id={quote(client_id, safe='')}"


def connection_links(text: str, c: Connection, env: Environment) -> list[Link]:
    """The connection's links: ``address_links`` and ``file_links``."""
    return sorted([*address_links(text, c, env), *file_links(text, c, env)], key=lambda k: k.start)


def reads_files(c: Connection) -> bool:
    """Whether the connection has a value that may link to a file (its links then depend
    on the files, not only on the text)."""
    return any(
        key in model.FILE_KEYS or (a.value.kind == "string" and "${file:" in str(a.value.data))
        for key, a in c.keys.items()
    )


def file_links(text: str, c: Connection, env: Environment) -> list[Link]:
    """`${file:}` and key-file values to their file, where `${file:}` may read."""
    out: list[Link] = []
    for key, a in c.keys.items():
        v = a.value
        if v.kind == "string" and ("${file:" in str(v.data) or key in model.FILE_KEYS):
            path = file_target(key, str(v.data), env)
            if path is not None:
                out.append(Link(*_inner(text, v), path.as_uri(), None))
    return out


def address_links(text: str, c: Connection, env: Environment) -> list[Link]:
    """`instance`, `client_id` and the SDK's client to the instance's pages (the text
    and the process's `SDK_OAUTH_APP_CLIENT_ID` decide them)."""
    out: list[Link] = []
    origin = host_of(c)
    host = urlsplit(origin).netloc if origin else None
    tooltip = f"Open the Application Registry record on {host}"
    for key, a in c.keys.items():
        v = a.value
        if v.kind != "string":
            continue
        start, end = _inner(text, v)
        if key == "instance" and origin is not None:
            out.append(Link(start, end, origin + "/", f"Open {host}"))
        elif key == "client_id" and origin is not None and (cid := _literal(v)):
            out.append(Link(start, end, registry_url(origin, cid), tooltip))
        elif key == "client" and v.data == model.CLIENT_SDK and origin is not None:
            sdk = env.env.get(records.SDK_CLIENT_ID_ENV) or records.SDK_CLIENT_ID
            out.append(Link(start, end, registry_url(origin, sdk), tooltip))
    return out
