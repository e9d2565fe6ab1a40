"""Safe XML parsing for the track readers: one-line TrackError instead of a parser traceback."""

from __future__ import annotations

from lxml import etree

from .model import TrackError

# No DTD loading, no entity expansion, no network: an activity file needs none of them, and
# they are what XXE and "billion laughs" documents abuse. huge_tree stays off (libxml2's
# default limits on depth and text node size).
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
)


def parse_xml(data: bytes) -> etree._Element:
    """Root element of ``data``; raises TrackError("corrupt XML: …") on any parse failure."""
    if not data or not data.strip():
        raise TrackError("corrupt XML: empty file")
    try:
        root = etree.fromstring(data, _PARSER)
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise TrackError(f"corrupt XML: {one_line(exc)}") from None
    if root is None:
        raise TrackError("corrupt XML: no root element")
    return root


def local(tag: object) -> str:
    """Tag name without its namespace; '' for entities and other non-element nodes."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message, at most 200 characters."""
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]
