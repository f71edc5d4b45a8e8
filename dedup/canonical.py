"""Canonical article URLs: one spelling per page, whichever feed or share link it came by.

Feeds link the same article with campaign parameters (``?utm_source=rss``), click ids,
upper-case hosts, explicit default ports or fragments. ``url-normalize`` does the RFC 3986
part (case, default ports, dot segments, percent-encoding, IDNA hosts); this module adds
what is specific to news links: tracking parameters go, the remaining ones are sorted,
the fragment goes and a trailing slash on a non-root path goes.

Not folded, because sites do serve different pages under them: ``http`` and ``https``,
``www.`` and the bare host, and the case of the path.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from url_normalize import url_normalize

TRACKING_PARAMS = frozenset(
    {
        # ad-click identifiers
        "dclid",
        "fbclid",
        "gbraid",
        "gclid",
        "gclsrc",
        "igsh",
        "igshid",
        "li_fat_id",
        "msclkid",
        "ttclid",
        "twclid",
        "wbraid",
        "yclid",
        # mail campaigns (Mailchimp, Marketo, Vero, Oracle Eloqua)
        "elqtrack",
        "elqtrackid",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "vero_conv",
        "vero_id",
        # referrer and share markers
        "ref",
        "ref_src",
        "ref_url",
        "referrer",
        "share",
        "smid",
        "src",
        "sr_share",
        # analytics campaign ids (Adobe, Microsoft, Webtrends, Google Analytics linker)
        "_ga",
        "_gl",
        "cmpid",
        "ocid",
        "s_cid",
        "wt.mc_id",
    }
)
"""Parameter names (compared case-insensitively) that say how a reader arrived, not which
page they asked for."""

TRACKING_PREFIXES = ("utm_", "at_", "hsa_", "_hs", "mtm_", "pk_", "oly_")
"""Parameter families: Google/Urchin campaigns, AT Internet (the BBC's ``at_medium``),
HubSpot, Matomo, Piwik and Olytics."""

_WEB_SCHEMES = frozenset({"http", "https"})

_LABEL = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_SEGMENT = r"(?!\.\.?(?:/|\?|$))[A-Za-z0-9._~!$&'()*+,;=:@-]+"
_PARAM = r"[A-Za-z0-9._~-]+(?:=[A-Za-z0-9._~-]*)?"
_ALREADY_NORMAL = re.compile(
    rf"https?://{_LABEL}(?:\.{_LABEL})*(?:/|(?:/{_SEGMENT})+/?)(?:\?{_PARAM}(?:&{_PARAM})*)?"
)
"""Web URLs that ``url-normalize`` gives back unchanged, as most feed links are: lower-case
ASCII host with no port, a path of plain non-empty segments (no dot segments, no
percent-escapes), a query of plain ``name=value`` pairs, no fragment. Normalising one
would spend IDNA encoding and re-quoting on a URL they leave as it was; ``tests/dedup/
test_canonical.py`` holds this pattern to that identity."""


def canonical_url(url: str) -> str:
    """The canonical form of an absolute or scheme-relative URL.

    A URL without a scheme is taken as ``https``. Non-web URLs (``urn:``, ``mailto:``) are
    only normalised, since query and path conventions are the web's. ValueError for a
    blank or malformed URL (an unclosed IPv6 bracket, an over-long host label).
    """
    url = url.strip()
    normalised = url if _is_already_normal(url) else url_normalize(url)
    if not normalised:
        raise ValueError("a blank URL has no canonical form")
    parts = urlsplit(normalised)
    if parts.scheme not in _WEB_SCHEMES:
        return normalised
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, _without_tracking(parts.query), ""))


def _is_already_normal(url: str) -> bool:
    if _ALREADY_NORMAL.fullmatch(url) is None:
        return False
    host = url.split("/", 3)[2]
    # IDNA refuses labels over 63 characters and decodes "xn--" ones: not ours to judge
    return "--" not in host and all(len(label) <= 63 for label in host.split("."))


def is_tracking_param(name: str) -> bool:
    key = unquote_plus(name).lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _without_tracking(query: str) -> str:
    """The query without tracking parameters, sorted by name so order does not matter.

    Pairs are kept as ``url-normalize`` encoded them (not re-encoded), and the sort is
    stable, so repeated names keep their relative order.
    """
    pairs = [pair for pair in query.split("&") if pair]
    kept = [pair for pair in pairs if not is_tracking_param(pair.partition("=")[0])]
    return "&".join(sorted(kept, key=lambda pair: pair.partition("=")[0]))
