"""A local ServiceNow instance emulator: OAuth token, authorize, revoke and REST endpoints.

It follows ``servicenow-oauth.md`` (the project's notes on how ServiceNow's inbound
OAuth behaves), failures included: nearly every token failure is the single answer
401 ``{"error_description":"access_denied","error":"server_error"}``. Standard library
HTTP server in a daemon thread, so any test (sync or async) or a CLI can use it::

    with Emulator() as emu:                      # built-in demo config
        httpx.post(emu.url + "/oauth_token.do", data={...})

Endpoints: ``POST /oauth_token.do`` (password, refresh_token, client_credentials,
authorization_code with PKCE S256, urn:ietf:params:oauth:grant-type:jwt-bearer; form
bodies only, query parameters ignored, client authentication by form fields or HTTP
Basic), ``GET /oauth_auth.do`` (login-and-consent form, or immediate approval as
``auto_approve_user``), ``GET|POST /oauth_revoke_token.do``, ``GET /sdk-oauth.do``
(the page the ServiceNow SDK's redirect lands on: the code in
``<code id="oauth-code">``), ``GET /api/now/ui/user/current_user`` and the Table API.

The instance side (docs/servicenow.md has the sources): every instance ships the
ServiceNow SDK's public client (``instance_records.SDK_CLIENT_ID``: no secret, PKCE
S256, redirect ``/sdk-oauth.do`` sent relative) unless ``sdk_client = false``. The
Table API, ``GET|POST|PATCH|PUT|DELETE /api/now/table/<table>[/<sys_id>]``, serves
``oauth_entity`` (the config's clients, the SDK's included), ``sys_user``,
``sys_properties`` and ``syslog`` (read-only) as live records: a client POSTed there
(client ID and secret generated when left out) fetches tokens at once, ``active =
false`` refuses it, and the properties ``com.snc.platform.security.oauth.is.active``,
``glide.oauth.inbound.client.credential.grant_type.enabled`` and
``glide.oauth.inbound.ropc.grant_type.disabled`` rule the grants as soon as they
change. Callers authenticate with HTTP Basic (a user with a password) or a Bearer
token; reading ``sys_user`` needs no role, everything else the ``admin`` role
(refusals carry ServiceNow's bodies). Query parameters: ``sysparm_query`` (see
:mod:`snowauth.emulator.query`), ``sysparm_fields``, ``sysparm_limit``,
``sysparm_offset``, ``sysparm_exclude_reference_link``. Every value is a string
(``sysparm_display_value=false``); a reference is ``{"link", "value"}``.

Refused token requests answer ServiceNow's folded 401 and write why to the system
log: a ``syslog`` row "Exception on token flow - <reason>" (level ``2``, source
``com.glide.ui.ServletErrorListener``; read it with
``sysparm_query=ORDERBYDESCsys_created_on``, or ``Emulator.syslog``), and
``Emulator.system_log`` (every refusal, authorize and REST included). Reasons never
hold a secret. REST API Auth Scopes (``[api_scopes]``, none by default) are checked as
the instance does: against the Auth Scopes of the token's client record at request time
(``useraccount`` opens every API), never the scope the token asked for; a refusal is 403
"Missing required api access scope" (:mod:`snowauth.emulator.rest`).

Modes (``Emulator.set_mode`` or ``--mode``): *hibernating* (every path answers 200 HTML
titled "Instance Hibernating page"), *rate_limited* (token requests answer 429 with
``Retry-After``), *flaky* (token requests answer 503, all of them or the next
``flaky_failures``), *slow* (every answer waits ``slow`` seconds). Set only through
``set_mode`` or the control endpoint: *no_current_user* (``/api/now/ui/user/current_user``
answers 404), *drop_user_filter* (the Table API ignores ``javascript:gs.getUserID()``),
*rest_rate_limited* (``/api/now/*`` answers an inbound REST rate limit's 429).

Every token answer opens a session (``JSESSIONID``, ``glide_user_route`` cookies) that
``/api/now/*`` accepts instead of a token, as an instance's does.

Emulator-only control endpoints, for tests that run the emulator as another process
(a real instance has nothing like them): ``POST /__emulator/mode`` with a JSON object
such as ``{"hibernating": true}`` or ``{"flaky_failures": 2}`` (the keys of
``set_mode``), ``GET /__emulator/mode``, and ``GET /__emulator/stats`` →
``{"token_requests": n, "requests": [[method, path], ...], "modes": {...}}``. They
ignore the modes and are not counted in ``requests``. Records and properties are set
out of process through the Table API itself (as the demo ``admin``); in process,
``Emulator.set_property``.

Configuration TOML (``load_config``; the built-in one is ``default.toml`` here)::

    [properties]
    client_credentials_enabled = false   # glide.oauth.inbound.client.credential...
    lockout_threshold = 5                # failed logins before lockout; 0: never
    auto_approve_user = "integration.user"   # optional
    code_lifespan = 60                   # authorization code lifetime, seconds
    sdk_client = true                    # ship the ServiceNow SDK's public client
    oauth_active = true                  # com.snc.platform.security.oauth.is.active
    password_grant_disabled = false      # glide.oauth.inbound.ropc.grant_type.disabled
    no_application_user = "unauthorized_client"   # or "access_denied" (see grants)
    redirect_fallback = true             # unregistered redirect_uri: the first registered
    pkce_failure = "access_denied"       # or "invalid_request" (a wrong code_verifier)
    mfa_for_integrations = false         # glide.authenticate.multifactor.for_integrations

    [clients.<name>]                     # an Application Registry record
    client_id = "<32 hex>"
    client_secret = "..."                # required unless public = true
    public = false                       # PKCE, no secret
    redirect_uris = ["http://127.0.0.1:53682/callback"]   # compared literally; no match: the first
    application_user = "<user_name>"     # OAuth Application User (client credentials)
    access_token_lifespan = 1800
    refresh_token_lifespan = 8640000
    scopes = ["useraccount"]             # Auth Scopes: may request (absent: any), REST access
    jwt_public_key_file = "jwt.pem"      # PEM key or certificate, relative to the file
    jwt_user_field = "user_name"         # user_name | email | sys_id
    jwt_key_id = "..."                   # optional required `kid`
    jwt_shared_key = "..."               # the verifier map's Shared key (HS256/384/512)
    jwt_audience = "..."                 # the `aud` it takes; absent: the client ID
    jwt_check_issuer = true              # `iss` must be the client ID
    jwt_clock_skew = 0                   # seconds of leeway on `exp` and `nbf`

    [api_scopes]                         # REST API Auth Scopes; absent: any valid token
    "/api/now/table" = "table_api"       # path prefix = the auth scope it needs

    [users."<user_name>"]
    password = "..."                     # absent: no password login
    active = true
    locked_out = false
    web_service_only = false             # no interactive session, no password grant
    sys_id = "<32 hex>"                  # absent: derived from the name
    first_name = "..."
    last_name = "..."
    email = "..."
    roles = ["admin"]                    # admin: the Table API beyond reading sys_user
    mfa_code = "123456"                  # enrolled in MFA: with mfa_for_integrations, the
                                         # password grant and Basic auth want password+code

Unknown keys and wrong types raise :class:`ConfigError` naming the file and the key.
Logging (logger ``snowauth.emulator``) carries only method, path and status.
"""

from __future__ import annotations

from snowauth.emulator.cli import main
from snowauth.emulator.config import (
    ClientRecord,
    ConfigError,
    EmulatorConfig,
    UserRecord,
    default_config,
    load_config,
)
from snowauth.emulator.server import Emulator

__all__ = [
    "ClientRecord",
    "ConfigError",
    "Emulator",
    "EmulatorConfig",
    "UserRecord",
    "default_config",
    "load_config",
    "main",
]
