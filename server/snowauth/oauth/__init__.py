"""The token exchange against a ServiceNow instance (protocol-free, httpx-based).

:class:`snowauth.oauth.client.OAuthClient` runs a :class:`snowauth.tokens.ResolvedConnection`'s
grant and gives back a :class:`snowauth.tokens.TokenSet`, or raises
:class:`snowauth.oauth.errors.OAuthError` with a message fit for the user.

This package module imports nothing: importing ``snowauth.oauth.errors`` does not load
httpx. Import the client from ``snowauth.oauth.client``.
"""
