"""Markdown → sanitised HTML for articles and glossary explanations.

Pure-ish: Python-Markdown and nh3, no Django models. Everything an editor
writes goes through :func:`render`; the only HTML a reader ever receives is
what comes out of :func:`sanitise`.

Pipeline: Python-Markdown (tables, fenced_code, toc, sane_lists) builds an
element tree; our glossary tree processor links the first mention of each
glossary term; the serialised HTML is then cleaned by nh3 with an allowlist
(tags, attributes per tag, URL schemes http/https/mailto plus relative URLs,
``rel="noopener noreferrer"`` on every link). Raw HTML an editor types is kept
by Markdown and therefore *must* be cleaned afterwards: the sanitiser is the
security boundary, Markdown is not.
"""

from __future__ import annotations

import html as html_lib
import math
import re
import xml.etree.ElementTree as etree  # noqa: S405 - builds trees, never parses input
from dataclasses import dataclass, field

import markdown
import nh3
from markdown.extensions import Extension
from markdown.extensions.toc import slugify as toc_slugify
from markdown.treeprocessors import Treeprocessor

WORDS_PER_MINUTE = 200
# A table of contents only helps in long articles.
TOC_MIN_HEADINGS = 4

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre",
    "s", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "th": {"align", "scope"},
    "td": {"align"},
    **{f"h{n}": {"id"} for n in range(1, 7)},
}
URL_SCHEMES = {"http", "https", "mailto"}
# Tags removed together with their content (nh3 strips other unknown tags but
# keeps their text, which is harmless once escaped).
CLEAN_CONTENT_TAGS = {"script", "style", "iframe", "object", "embed", "template", "noscript", "textarea", "select"}
# Ids used by the page layout (base.html): a heading must not take them over.
RESERVED_IDS = {"main", "content", "toc", "glossary", "search", "q"}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_ALIGN_VALUES = {"left", "right", "center"}


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    """Second line of defence after the allowlist: ids must look like our
    slugs and not clash with the layout; alignment only takes plain values."""
    if attr == "id":
        return value if _ID_RE.match(value) and value not in RESERVED_IDS else None
    if attr == "align":
        return value if value in _ALIGN_VALUES else None
    if attr in {"width", "height", "start"}:
        return value if value.isdigit() else None
    return value


def sanitise(html: str) -> str:
    """Clean HTML to the allowlist. Safe to call on anything."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        clean_content_tags=CLEAN_CONTENT_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        allowed_classes={"a": {"glossary-link"}},
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


# --- Glossary linking ---------------------------------------------------------


@dataclass(frozen=True)
class GlossaryEntry:
    """A term to link: the phrases that count as a mention, and its URL."""

    slug: str
    url: str
    phrases: tuple[str, ...]


def term_phrases(term: str) -> tuple[str, ...]:
    """Phrases that count as a mention of a term.

    "APR (annual percentage rate)" is mentioned as "APR" or as "annual
    percentage rate"; "Impermanent loss" only as itself.
    """
    term = term.strip()
    match = re.fullmatch(r"(.+?)\s*\(([^()]+)\)", term)
    if match:
        phrases: tuple[str, ...] = (match.group(1).strip(), match.group(2).strip())
    else:
        phrases = (term,)
    return tuple(p for p in phrases if len(p) >= 2)


# Text inside these elements is never linked.
_SKIP_TAGS = {"a", "code", "pre", "h1", "h2", "h3", "h4", "h5", "h6", "abbr", "kbd", "samp"}


class _GlossaryLinker(Treeprocessor):
    """Links the first mention of each glossary term (case-insensitive, whole
    words, an optional plural "s"), outside headings, links and code."""

    def __init__(self, md: markdown.Markdown, entries: list[GlossaryEntry]):
        super().__init__(md)
        self.by_phrase: dict[str, GlossaryEntry] = {}
        for entry in entries:
            for phrase in entry.phrases:
                self.by_phrase.setdefault(phrase.lower(), entry)
        # Longest phrase first, so "LP token" wins over "LP" at the same spot.
        alternatives = sorted(self.by_phrase, key=len, reverse=True)
        self.pattern = (
            re.compile(r"(?<!\w)(" + "|".join(re.escape(p) for p in alternatives) + r")(?:e?s)?(?!\w)", re.IGNORECASE)
            if alternatives
            else None
        )
        self.linked: set[str] = set()

    def run(self, root: etree.Element) -> None:
        if self.pattern is None:
            return
        self.linked = set()
        self._walk(root)

    def _walk(self, el: etree.Element) -> None:
        if el.tag in _SKIP_TAGS:
            return
        # el.text belongs to el; each child's tail belongs to el too.
        if el.text:
            new_nodes, el.text = self._split(el.text)
            for offset, node in enumerate(new_nodes):
                el.insert(offset, node)
            children = list(el)[len(new_nodes):]
        else:
            children = list(el)
        for child in children:
            self._walk(child)
            if child.tail:
                new_nodes, child.tail = self._split(child.tail)
                index = list(el).index(child) + 1
                for offset, node in enumerate(new_nodes):
                    el.insert(index + offset, node)

    def _split(self, text: str) -> tuple[list[etree.Element], str]:
        """Returns (links to insert after the leading text, the leading text).

        The remaining text after each link becomes that link's tail."""
        if isinstance(text, markdown.util.AtomicString):
            return [], text
        assert self.pattern is not None  # run() returns early without one
        nodes: list[etree.Element] = []
        leading = ""
        pos = 0
        for match in self.pattern.finditer(text):
            entry = self.by_phrase[match.group(1).lower()]
            if entry.slug in self.linked:
                continue
            self.linked.add(entry.slug)
            link = etree.Element("a", {"href": entry.url, "class": "glossary-link"})
            link.text = markdown.util.AtomicString(match.group(0))
            before = text[pos:match.start()]
            if nodes:
                nodes[-1].tail = before
            else:
                leading = before
            nodes.append(link)
            pos = match.end()
        if not nodes:
            return [], text
        nodes[-1].tail = text[pos:]
        return nodes, leading


class _GlossaryExtension(Extension):
    def __init__(self, entries: list[GlossaryEntry]):
        super().__init__()
        self.entries = entries

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown's API
        # After "inline" (20) has turned `code` and [links] into elements.
        md.treeprocessors.register(_GlossaryLinker(md, self.entries), "glossary", 15)


# --- Rendering ---------------------------------------------------------------


@dataclass
class Rendered:
    html: str
    toc: list[dict] = field(default_factory=list)
    word_count: int = 0

    @property
    def reading_time(self) -> int:
        return reading_time_minutes(self.word_count)


def reading_time_minutes(word_count: int) -> int:
    return max(1, math.ceil(word_count / WORDS_PER_MINUTE))


def _slugify(value: str, separator: str) -> str:
    slug = toc_slugify(value, separator) or "section"
    return f"{slug}{separator}section" if slug in RESERVED_IDS else slug


def _clean_toc(tokens: list[dict]) -> list[dict]:
    """Keep only what the template needs: plain-text names, no raw HTML."""
    return [
        {
            "id": t["id"],
            "name": html_lib.unescape(t["name"]),
            "level": t["level"],
            "children": _clean_toc(t["children"]),
        }
        for t in tokens
    ]


def _count_headings(tokens: list[dict]) -> int:
    return sum(1 + _count_headings(t["children"]) for t in tokens)


def count_words(text: str) -> int:
    return len(re.findall(r"\w+(?:['’-]\w+)*", text))


def render(source: str, *, glossary: list[GlossaryEntry] | None = None, with_toc: bool = True) -> Rendered:
    """Render editor markdown to sanitised HTML.

    ``glossary``: terms whose first mention gets linked. ``with_toc``: build a
    table of contents when the text has at least ``TOC_MIN_HEADINGS`` h2/h3
    headings (headings always get ids)."""
    extensions: list = [
        "tables",
        "fenced_code",
        "sane_lists",
        "toc",
    ]
    if glossary:
        extensions.append(_GlossaryExtension(glossary))
    md = markdown.Markdown(
        extensions=extensions,
        extension_configs={
            "toc": {"toc_depth": "2-3", "slugify": _slugify},
            # align="" instead of style="" (no inline style under our CSP).
            "tables": {"use_align_attribute": True},
        },
        output_format="html",
    )
    raw = md.convert(source or "")
    html = sanitise(raw)
    tokens = getattr(md, "toc_tokens", [])
    toc = _clean_toc(tokens) if with_toc and _count_headings(tokens) >= TOC_MIN_HEADINGS else []
    text_only = nh3.clean(html, tags=set())
    return Rendered(html=html, toc=toc, word_count=count_words(text_only))
