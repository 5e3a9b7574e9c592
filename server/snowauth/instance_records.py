"""The names of the instance's own records that snowauth reads and writes through the
Table API: tables, their fields, and the system properties that govern inbound OAuth.

Register (creating an Application Registry record), doctor (reading the chain of a
connection) and the emulator all use these names, so they agree by construction. The
sources for each name are in docs/servicenow.md ("The instance side").
"""

from __future__ import annotations

from typing import Final

TABLE_API: Final = "/api/now/table"

# -- the Application Registry: "OAuth API endpoint for external clients" -----------------
OAUTH_ENTITY: Final = "oauth_entity"
ENTITY_NAME: Final = "name"
ENTITY_CLIENT_ID: Final = "client_id"
ENTITY_CLIENT_SECRET: Final = "client_secret"
#: comma-separated; the instance falls back to the first when a request names none of them
ENTITY_REDIRECT_URL: Final = "redirect_url"
ENTITY_ACTIVE: Final = "active"
#: "client" for an OAuth API endpoint for external clients
ENTITY_TYPE: Final = "type"
ENTITY_TYPE_CLIENT: Final = "client"
ENTITY_PUBLIC_CLIENT: Final = "public_client"
ENTITY_ACCESS_TOKEN_LIFESPAN: Final = "access_token_lifespan"
ENTITY_REFRESH_TOKEN_LIFESPAN: Final = "refresh_token_lifespan"
#: the OAuth Application User (client credentials acts as this sys_user)
ENTITY_APPLICATION_USER: Final = "user"

# -- users -------------------------------------------------------------------------------
SYS_USER: Final = "sys_user"
USER_NAME: Final = "user_name"
USER_ACTIVE: Final = "active"
USER_LOCKED_OUT: Final = "locked_out"
USER_WEB_SERVICE_ONLY: Final = "web_service_access_only"

# -- system properties --------------------------------------------------------------------
SYS_PROPERTIES: Final = "sys_properties"
PROPERTY_NAME: Final = "name"
PROPERTY_VALUE: Final = "value"
#: OAuth on the instance at all
PROP_OAUTH_ACTIVE: Final = "com.snc.platform.security.oauth.is.active"
#: the client credentials grant (off unless "true")
PROP_CLIENT_CREDENTIALS_ENABLED: Final = "glide.oauth.inbound.client.credential.grant_type.enabled"
#: the password grant, switched off instance-wide when "true"
PROP_PASSWORD_GRANT_DISABLED: Final = "glide.oauth.inbound.ropc.grant_type.disabled"
#: MFA for API logins (the password grant, Basic auth) of users enrolled in MFA, when "true":
#: the password followed by the current one-time code (docs/servicenow.md, "MFA")
PROP_MFA_FOR_INTEGRATIONS: Final = "glide.authenticate.multifactor.for_integrations"

# -- the system log -------------------------------------------------------------------------
SYSLOG: Final = "syslog"
SYSLOG_MESSAGE: Final = "message"
SYSLOG_LEVEL: Final = "level"
SYSLOG_SOURCE: Final = "source"
SYSLOG_CREATED: Final = "sys_created_on"
#: how a refused token request begins its line in the system log
TOKEN_FLOW_EXCEPTION: Final = "Exception on token flow"

# -- the ServiceNow SDK's public client, shipped with instances -------------------------
SDK_CLIENT_ID: Final = "543e5655f77746a28228c6009a599dfb"
#: the environment variable the SDK CLI reads to override it (process environment only)
SDK_CLIENT_ID_ENV: Final = "SDK_OAUTH_APP_CLIENT_ID"
#: the redirect the SDK sends (relative: the instance's own page that shows the code)
SDK_REDIRECT_PATH: Final = "/sdk-oauth.do"
