"""What a person may paste at the code question (oauth/paste.py): the bare code, the whole
address the browser landed on, or its query; an address's state is checked and its error
is the sign-in's refusal."""

from __future__ import annotations

import pytest

from snowauth.oauth.errors import OAuthError
from snowauth.oauth.paste import read_answer

STATE = "expected-state"
SHOWN = "https://example.invalid/cb"


@pytest.mark.parametrize(
    "answer",
    [
        "abc123-_.~code",
        "  abc123-_.~code\n",
        f"https://example.invalid/cb?code=abc123-_.~code&state={STATE}",
        f"https://dev1.service-now.com/sdk-oauth.do?state={STATE}&code=abc123-_.~code#top",
        f"/sdk-oauth.do?code=abc123-_.~code&state={STATE}",
        f"code=abc123-_.~code&state={STATE}",
    ],
)
def test_the_code_is_read(answer: str) -> None:
    assert read_answer(answer, STATE, SHOWN) == "abc123-_.~code"


def test_a_bare_code_may_end_in_padding() -> None:
    assert read_answer("YWJj==", STATE, SHOWN) == "YWJj=="


@pytest.mark.parametrize(
    ("answer", "code", "says"),
    [
        ("", "sign-in-cancelled", "No code was pasted"),
        ("   \n", "sign-in-cancelled", "No code was pasted"),
        (f"{SHOWN}?code=x&state=other", "state-mismatch", "does not match the one snowauth sent"),
        (f"{SHOWN}?code=x", "state-mismatch", "does not match"),
        (f"{SHOWN}?error=access_denied&state={STATE}", "authorization-denied", "The sign-in was denied"),
        (f"{SHOWN}?state={STATE}", "code-unreadable", "an address without a code"),
        ("two words", "code-unreadable", "holds spaces"),
        ("x" * 9000, "code-unreadable", "over 8192 characters"),
    ],
)
def test_what_is_refused(answer: str, code: str, says: str) -> None:
    with pytest.raises(OAuthError) as refused:
        read_answer(answer, STATE, SHOWN)
    assert refused.value.code == code and says in str(refused.value)
    assert "two words" not in str(refused.value)  # the pasted text is never quoted
