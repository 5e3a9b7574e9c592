"""A small client of the instance's Table API (``/api/now/table``): list, get, create and
update records, as an admin (HTTP Basic) or with a token (Bearer).

It sends through the exchange's transport (:mod:`snowauth.oauth.http`): the same TLS
verification and ``ca_bundle``, timeouts, size cap, no redirects; a create or an update
is sent once (never retried: the record would be created twice). Answers the REST API
gives any caller (hibernation, 429, 5xx, not JSON) become the catalogue's errors
(:mod:`snowauth.oauth.errors`); what only the Table API answers is built here: 401 (the
credentials were refused), 403 (the user lacks the role), 404 and 400, each with the
instance's own message (``{"error": {"message", "detail"}}``) scrubbed of every
credential. Table and field names come from :mod:`snowauth.instance_records`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol

from snowauth.instance_records import TABLE_API
from snowauth.json_shapes import validate
from snowauth.oauth import errors
from snowauth.oauth.errors import OAuthError
from snowauth.oauth.http import HttpResponse, HttpTransport, NowFn, utcnow
from snowauth.oauth.responses import json_object, raise_for_common
from snowauth.oauth.table_shapes import KNOWN, ErrorAnswer, ListAnswer, RecordAnswer, Row
from snowauth.oauth.tls import ClientCertificate

# what a table name and a sys_id may hold: nothing that changes the path
_NAME: Final = re.compile(r"[A-Za-z0-9_]+")
_SYS_ID: Final = re.compile(r"[A-Za-z0-9_-]+")


class Credentials(Protocol):
    """Who the requests run as (:class:`snowauth.admin.Admin` is one)."""

    @property
    def kind(self) -> Literal["basic", "bearer"]:
        """HTTP Basic (a user name and password) or Bearer (an access token)."""

    @property
    def who(self) -> str:
        """How messages name them ("the user admin", "the token of connection x"); no secret."""

    def authorization(self) -> str:
        """The ``Authorization`` header's value (a secret)."""

    def secrets(self) -> tuple[str, ...]:
        """Every secret they hold, to scrub from what the instance sends back."""


@dataclass(frozen=True)
class Record:
    """A record as the Table API gives it: its fields as text (``sys_id`` among them)."""

    fields: dict[str, str]

    @property
    def sys_id(self) -> str:
        return self.fields.get("sys_id", "")

    def get(self, name: str) -> str | None:
        return self.fields.get(name)


def _said(response: HttpResponse, hidden: Iterable[str]) -> str:
    """The instance's own message in a Table API failure, scrubbed; "" without one."""
    data = json_object(response.body)
    answer = validate(ErrorAnswer, data, KNOWN) if data is not None else None
    if not isinstance(answer, ErrorAnswer):
        return ""
    parts = [answer.error.message, answer.error.detail]
    text = ": ".join(p for p in parts if p is not None and p.strip())
    return errors.scrub(text, list(hidden)) if text else ""


def not_table_api(r: HttpResponse, detail: str | None = None) -> OAuthError:
    """``detail``: what is wrong with the JSON's shape (json_shapes.problem)."""
    return errors.not_servicenow(
        r.url, status=r.status, content_type=r.content_type, what="the ServiceNow Table API", detail=detail
    )


def credentials_refused(origin: str, credentials: Credentials, said: str) -> OAuthError:
    told = f" (the instance said: {said})" if said else ""
    if credentials.kind == "basic":
        what = (
            f"{origin} refused the admin credentials (HTTP 401){told}: the user name or password is "
            "wrong, or the user is locked out or may not use the REST API. Nothing was changed on the instance."
        )
    else:
        what = (
            f"{origin} refused the access token of {credentials.who} (HTTP 401){told}: it expired or "
            "was revoked. Refresh it, or sign in as an admin. Nothing was changed on the instance."
        )
    return OAuthError("admin-refused", what, status=401)


def lacks_role(origin: str, credentials: Credentials, table: str, said: str) -> OAuthError:
    told = f" (the instance said: {said})" if said else ""
    return OAuthError(
        "admin-forbidden",
        f"{origin} refused {credentials.who} access to the table {table} (HTTP 403){told}: the user "
        "lacks the admin role (or the token lacks the scope to use the Table API). Sign in as a user "
        "with the admin role. Nothing was changed on the instance.",
        status=403,
    )


def table_failed(url: str, status: int, said: str) -> OAuthError:
    told = f": {said}" if said else ""
    return OAuthError(
        "table-failed",
        f"{url} refused the request (HTTP {status}){told}. Check that the instance is a ServiceNow "
        "instance and that the user may write the table.",
        status=status,
    )


def not_found(url: str, said: str) -> OAuthError:
    told = f" ({said})" if said else ""
    return OAuthError("record-not-found", f"{url} has no such record{told}.", status=404)


class TableClient:
    """The Table API of one instance, as one caller. Close with :meth:`aclose` (or use
    ``async with``) unless ``transport`` is shared."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        timeout: float = 30.0,
        ca_bundle: str | None = None,
        transport: HttpTransport | None = None,
        now: NowFn = utcnow,
        proxy: str | None = None,
        client_cert: ClientCertificate | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.timeout = timeout
        self.ca_bundle = ca_bundle
        self.proxy = proxy
        self.client_cert = client_cert
        self._own = transport is None
        self._http = transport if transport is not None else HttpTransport(now=now)
        self._now = now

    async def __aenter__(self) -> TableClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own:
            await self._http.aclose()

    # -- the operations ---------------------------------------------------------------

    async def list(
        self, table: str, query: str | None = None, fields: Iterable[str] = (), limit: int | None = None
    ) -> list[Record]:
        """The records of ``table`` that match the encoded ``query``."""
        params = self._params(fields)
        if query:
            params["sysparm_query"] = query
        if limit is not None:
            params["sysparm_limit"] = str(limit)
        data, response = await self._call("GET", table, None, params=params)
        answer = validate(ListAnswer, data, KNOWN)
        if isinstance(answer, str):
            raise not_table_api(response, answer)
        return [self._record(row) for row in answer.result]

    async def get(self, table: str, sys_id: str, fields: Iterable[str] = ()) -> Record:
        """One record by its sys_id (``record-not-found`` when there is none)."""
        return self._one(*await self._call("GET", table, sys_id, params=self._params(fields)))

    async def create(self, table: str, fields: Mapping[str, object]) -> Record:
        """Insert a record; the record as the instance stored it (sent once)."""
        return self._one(*await self._call("POST", table, None, body=dict(fields), params=self._params(())))

    async def update(self, table: str, sys_id: str, fields: Mapping[str, object]) -> Record:
        """Change fields of a record (sent once)."""
        return self._one(*await self._call("PATCH", table, sys_id, body=dict(fields), params=self._params(())))

    # -- plumbing -----------------------------------------------------------------------

    @staticmethod
    def _params(fields: Iterable[str]) -> dict[str, str]:
        # raw values (sys_ids, not display names), reference fields as plain text
        params = {"sysparm_display_value": "false", "sysparm_exclude_reference_link": "true"}
        names = list(fields)
        if names:
            params["sysparm_fields"] = ",".join(names)
        return params

    def _url(self, table: str, sys_id: str | None) -> str:
        if not _NAME.fullmatch(table):
            raise ValueError(f"not a table name: {table!r}")
        url = f"{self.base_url}{TABLE_API}/{table}"
        if sys_id is not None:
            if not _SYS_ID.fullmatch(sys_id):
                raise not_found(url, "the sys_id is not valid")
            url += f"/{sys_id}"
        return url

    async def _call(
        self,
        method: str,
        table: str,
        sys_id: str | None,
        *,
        params: dict[str, str],
        body: dict[str, object] | None = None,
    ) -> tuple[dict[str, Any], HttpResponse]:
        url = self._url(table, sys_id)
        headers = {"Authorization": self.credentials.authorization(), "Accept": "application/json"}
        response = await self._http.request(
            method,
            url,
            timeout=self.timeout,
            ca_bundle=self.ca_bundle,
            proxy=self.proxy,
            client_cert=self.client_cert,
            params=params,
            headers=headers,
            json=body,
            max_attempts=1 if method != "GET" else None,
        )
        raise_for_common(response, now=self._now())
        hidden = self.credentials.secrets()
        if response.status == 401:
            raise credentials_refused(response.origin, self.credentials, _said(response, hidden))
        if response.status == 403:
            raise lacks_role(response.origin, self.credentials, table, _said(response, hidden))
        data = json_object(response.body)
        if response.status == 404 and data is not None:
            raise not_found(response.url, _said(response, hidden))
        if not 200 <= response.status <= 299:
            if data is not None and isinstance(validate(ErrorAnswer, data, KNOWN), ErrorAnswer):
                raise table_failed(response.url, response.status, _said(response, hidden))
            raise not_table_api(response)
        if data is None:
            first = response.body.lstrip()[:1]
            if response.content_type == "application/json" or first in (b"{", b"["):
                raise errors.malformed_response(
                    response.url, "the JSON is incomplete or invalid", status=response.status
                )
            raise not_table_api(response)
        return data, response

    def _one(self, data: dict[str, Any], response: HttpResponse) -> Record:
        answer = validate(RecordAnswer, data, KNOWN)
        if isinstance(answer, str):
            raise not_table_api(response, answer)
        return self._record(answer.result)

    @staticmethod
    def _record(row: Row) -> Record:
        """The record's fields as text (a reference: its sys_id; null fields left out)."""
        return Record({name: value for name, value in row.items() if value is not None})
