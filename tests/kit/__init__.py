"""The test kit: helpers every suite shares, one module per job, imported one way
(``from tests.kit.<module> import …``). Fixtures stay in the conftest.py files."""
