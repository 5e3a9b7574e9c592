"""Recognising answers that are not what a ServiceNow API sends."""

from __future__ import annotations

import html
import re

_TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_HIBERNATING = b"instance hibernating page"
_HIBERNATING_CLASS = re.compile(rb"""class=["'][^"']*\binstance-hibernating-page\b""", re.IGNORECASE)
_HIBERNATING_H1 = re.compile(rb"<h1[^>]*>\s*Your instance is hibernating", re.IGNORECASE)
# a link to the developer portal only (never another host a page could name), made of
# URL characters only: it is shown in a message
_WAKE_LINK = re.compile(rb"""href=["'](https://developer\.servicenow\.com/[A-Za-z0-9\-._~:/?#!@$&;+,=%]*)["']""")


def is_hibernation_page(body: bytes) -> bool:
    """True for the HTML page a sleeping developer instance answers with: its title
    ("Instance Hibernating page"), its body's class ``instance-hibernating-page`` or
    its heading "Your instance is hibernating" (docs/servicenow.md, "Fidelity")."""
    head = body[:65536]
    match = _TITLE.search(head)
    return (
        (match is not None and _HIBERNATING in match.group(1).lower())
        or bool(_HIBERNATING_CLASS.search(head))
        or bool(_HIBERNATING_H1.search(head))
    )


def wake_link(body: bytes) -> str | None:
    """The hibernation page's link that wakes the instance: a developer portal link,
    the one with ``wu=true`` first; None when the page has none."""
    links = [html.unescape(m.group(1).decode("ascii")) for m in _WAKE_LINK.finditer(body[:65536])]
    waking = [link for link in links if "wu=true" in link]
    found = (waking or links)[:1]
    return found[0] if found and len(found[0]) <= 300 else None


def looks_like_html(body: bytes, content_type: str | None) -> bool:
    if content_type and "html" in content_type.lower():
        return True
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml"))
