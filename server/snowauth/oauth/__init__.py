"""The token exchange against a ServiceNow instance (protocol-free, httpx-based)."""
