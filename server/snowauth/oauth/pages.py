"""Recognising answers that are not what a ServiceNow API sends."""

from __future__ import annotations

import re

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_HIBERNATING = b"instance hibernating page"
_HIBERNATING_CLASS = re.compile(rb"""class=["'][^"']*\binstance-hibernating-page\b""", re.IGNORECASE)


def is_hibernation_page(body: bytes) -> bool:
    """True for the HTML page a sleeping developer instance answers with: its title
    ("Instance Hibernating page") or its body's class ``instance-hibernating-page``."""
    head = body[:65536]
    match = _TITLE.search(head)
    return (match is not None and _HIBERNATING in match.group(1).lower()) or bool(_HIBERNATING_CLASS.search(head))


def looks_like_html(body: bytes, content_type: str | None) -> bool:
    if content_type and "html" in content_type.lower():
        return True
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml"))
