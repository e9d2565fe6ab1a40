"""Keep credentials out of what sensorhub prints and stores.

InfluxDB credentials can arrive in the URL (``http://user:pass@host``, ``?u=..&p=..``,
``?token=..``) as well as in the config. Everything the writer reports (errors, the outbox's
``last_error``) goes through :func:`redact`; anything that shows the InfluxDB target to a
person goes through :func:`redact_url`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, unquote

MASK = "***"

# query parameters that carry credentials (InfluxDB 1.x u/p, 2.x v1-compat token, generic)
SECRET_PARAMS = frozenset(
    {"u", "p", "password", "passwd", "pass", "token", "access_token", "api_key", "apikey", "key"}
)

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s?#]*)@")
_QUERY_SECRET = re.compile(
    r"(?P<lead>[?&;](?:" + "|".join(sorted(SECRET_PARAMS)) + r")=)(?P<value>[^&#\s'\"]*)",
    re.IGNORECASE,
)
_AUTH_HEADER = re.compile(r"(?P<lead>\b(?:Token|Bearer|Basic)\s+)(?P<value>[A-Za-z0-9._~+/=:-]+)")


def redact_url(url: str) -> str:
    """``url`` with the password of its user info and secret query values replaced by ``***``.

    ``http://eva:s3cret@influx/?u=eva&p=s3cret`` -> ``http://eva:***@influx/?u=***&p=***``.
    The user name in the user info is kept (it helps to see who connects); ``u=`` is masked
    because it is usually next to ``p=``.
    """
    if not url:
        return url
    return _mask_patterns(url)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """``text`` with every given secret (and its URL-encoded forms) and URL credentials masked."""
    if not text:
        return text
    for s in sorted({s for s in secrets if s}, key=len, reverse=True):
        for form in {s, quote(s, safe=""), quote_plus(s), unquote(s)}:
            if form:
                text = text.replace(form, MASK)
    return _mask_patterns(text)


def _mask_patterns(text: str) -> str:
    text = _USERINFO.sub(_mask_userinfo, text)
    text = _QUERY_SECRET.sub(lambda m: m["lead"] + MASK, text)
    return _AUTH_HEADER.sub(lambda m: m["lead"] + MASK, text)


def _mask_userinfo(m: re.Match[str]) -> str:
    user, sep, _password = m["userinfo"].partition(":")
    # a lone user info is often a token (https://TOKEN@host): mask it whole
    masked = f"{user}:{MASK}" if sep else MASK
    return f"{m['scheme']}{masked}@"
