"""The HTML a call script may produce: an allow-list of formatting, applied to every
rendered script before a volunteer or operator sees it.

jinja2's sandbox guards the template (no reaching into Python), and autoescaping guards the
voter's fields, but the operator's own markup passes through as written: without this, a
script holding ``<img src=x onerror=...>`` would run JavaScript on every volunteer's page.
Anything not listed here is removed (``<script>`` and ``<style>`` with their content, every
``on*`` handler, ``style`` attributes, ``javascript:`` links); text is kept.
"""

from __future__ import annotations

import nh3

TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "mark", "ol", "p", "pre",
        "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "th",
        "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ATTRIBUTES = {
    "*": {"class", "lang", "title"},
    "a": {"href"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
URL_SCHEMES = frozenset({"https", "http", "mailto", "tel"})
REMOVED_WITH_CONTENT = frozenset({"script", "style"})


def sanitize_script_html(html: str) -> str:
    """``html`` with only the allowed tags, attributes and link schemes left. Links open in
    a new tab (the volunteer's page stays on the call) without access to the opener."""
    return nh3.clean(
        html,
        tags=set(TAGS),
        clean_content_tags=set(REMOVED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
