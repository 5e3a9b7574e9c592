"""Hypothesis profiles for the hardening suites.

``SNOWAUTH_FUZZ=long`` (``make fuzz``) selects the long profile: many more examples,
fresh random seeds each run. The default profile is small and derandomized, so that the
whole tests/hardening run stays within its CI budget and never flakes.
The profiles are applied per test (``@FUZZ``), not loaded globally, so other suites
keep their own hypothesis settings.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

settings.register_profile(
    "snowauth-fuzz-ci",
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=_HEALTH,
)
settings.register_profile(
    "snowauth-fuzz-long",
    max_examples=4000,
    deadline=None,
    suppress_health_check=_HEALTH,
)

PROFILE = "snowauth-fuzz-long" if os.environ.get("SNOWAUTH_FUZZ") == "long" else "snowauth-fuzz-ci"
FUZZ = settings.get_profile(PROFILE)


def marked_json(marker: str) -> st.SearchStrategy[object]:
    """Arbitrary JSON (as ``json.loads`` gives it: objects, lists, text, numbers, booleans,
    null, huge integers) in which every string, key or value, holds ``marker``: a test
    asserts that no message quotes any of them."""
    text = st.text(max_size=12).map(lambda s: f"{marker}{s}")
    leaves = st.none() | st.booleans() | st.integers() | st.integers(min_value=10**300) | st.floats() | text
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
        max_leaves=20,
    )
