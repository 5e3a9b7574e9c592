from __future__ import annotations

from lsprotocol import types as t
from pytest_lsp import LanguageClient

from tests.kit.lsp import diagnostics, open_doc

URI = "file:///tmp/snowauth-test/basic.snowauth.toml"
BROKEN = """[connections.dev]
instance = "dev12345"
grant_type = "password"
client_id = "0123456789abcdef0123456789abcdef"
client_secret = "${env:SNOW_SECRET_FOR_TESTS}"
pasword = "x"
"""


async def test_open_gives_diagnostics(client: LanguageClient) -> None:
    open_doc(client, URI, BROKEN)
    diags = await diagnostics(client, URI, 1)
    codes = sorted(str(d.code) for d in diags)
    assert codes == ["missing-key", "missing-key", "unknown-key", "unresolved-reference"]
    unknown = next(d for d in diags if d.code == "unknown-key")
    assert unknown.range == t.Range(t.Position(5, 0), t.Position(5, 7))
    assert "did you mean `password`" in unknown.message
    assert all(d.source == "snowauth" for d in diags)
