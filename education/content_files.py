"""Reading ``education/content/``: front matter parsing and validation.

Pure-ish (PyYAML, stdlib): turns files into typed records or a list of
errors that each name the file and the key. No database access; the loader
service in ``education.services`` decides what to write.

Layout::

    categories.yaml            list of {slug, name, description, order}
    articles/<slug>.md         front matter + markdown body
    glossary/<slug>.md         front matter + markdown body (the explanation)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

LEVELS = ("beginner", "intermediate", "advanced")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URL_RE = re.compile(r"^https?://[^\s<>\"']+$")
ARTICLE_KEYS = {
    "title", "slug", "category", "level", "summary", "seo_description", "related_terms",
    "path_order", "disclaimer", "published_at", "sources", "checked_on",
}
TERM_KEYS = {"term", "slug", "short_definition", "related_article"}
CATEGORY_KEYS = {"slug", "name", "description", "order"}


@dataclass(frozen=True)
class CategoryIn:
    slug: str
    name: str
    description: str
    order: int
    source_hash: str
    source: str


@dataclass(frozen=True)
class TermIn:
    slug: str
    term: str
    short_definition: str
    explanation_markdown: str
    related_article: str | None
    source_hash: str
    source: str


@dataclass(frozen=True)
class ArticleIn:
    slug: str
    title: str
    category: str
    level: str
    summary: str
    seo_description: str
    body_markdown: str
    related_terms: tuple[str, ...]
    path_order: int | None
    published_at: dt.datetime | None
    source_hash: str
    source: str
    sources: tuple[dict, ...] = ()
    checked_on: dt.date | None = None


@dataclass
class ContentSet:
    categories: list[CategoryIn] = field(default_factory=list)
    terms: list[TermIn] = field(default_factory=list)
    articles: list[ArticleIn] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class ContentError(Exception):
    """The content folder has errors; ``errors`` lists each (file: key: why)."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split_front_matter(text: str) -> tuple[str, str] | None:
    """(yaml text, body) or None when the file does not start with '---'."""
    text = text.lstrip("\ufeff")
    match = re.match(r"^---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)(.*)\Z", text, re.DOTALL)
    if not match:
        return None
    return match.group(1), match.group(2)


class _Checker:
    """Collects "<file>: '<key>': <problem>" messages while reading one file."""

    def __init__(self, source: str, data: dict, errors: list[str]):
        self.source, self.data, self.errors = source, data, errors

    def error(self, key: str, problem: str) -> None:
        self.errors.append(f"{self.source}: '{key}': {problem}")

    def text(self, key: str, *, required: bool = True, max_length: int | None = None) -> str:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(key, "is required")
            return ""
        if not isinstance(value, str):
            self.error(key, f"must be text (got {type(value).__name__})")
            return ""
        value = value.strip()
        if max_length and len(value) > max_length:
            self.error(key, f"is {len(value)} characters long; at most {max_length} allowed")
        return value

    def slug(self, key: str, *, required: bool = True) -> str:
        value = self.text(key, required=required, max_length=120)
        if value and not SLUG_RE.match(value):
            self.error(key, f"{value!r} is not a slug (lowercase letters, digits and hyphens)")
        return value

    def integer(self, key: str, *, required: bool = False) -> int | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.error(key, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.error(key, f"must be a whole number ≥ 0 (got {value!r})")
            return None
        return value

    def unknown_keys(self, allowed: set[str], warnings: list[str]) -> None:
        for key in sorted(set(self.data) - allowed):
            warnings.append(f"{self.source}: '{key}': unknown key, ignored")


def _read(path: Path, root: Path, errors: list[str]) -> tuple[dict, str, str, str] | None:
    """(front matter, body, source hash, display name) or None after an error."""
    source = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        errors.append(f"{source}: not UTF-8 ({exc.reason} at byte {exc.start})")
        return None
    parts = split_front_matter(text)
    if parts is None:
        errors.append(f"{source}: no front matter (the file must start with a '---' line and close it with '---')")
        return None
    try:
        data = yaml.safe_load(parts[0]) or {}
    except yaml.YAMLError as exc:
        errors.append(f"{source}: front matter is not valid YAML: {exc}")
        return None
    if not isinstance(data, dict):
        errors.append(f"{source}: front matter must be a mapping of keys to values")
        return None
    return data, parts[1].strip() + "\n", sha256(raw), source


def sources_problems(value: object) -> list[str]:
    """What is wrong with a ``sources`` value (empty list: nothing).

    The shape: a list of mappings, each with a non-empty ``title`` and an
    ``http(s)://`` ``url`` (the article page links them, so no other scheme)."""
    if not isinstance(value, list):
        return ["must be a list of {title, url}"]
    problems = []
    for index, item in enumerate(value):
        if not isinstance(item, dict) or set(item) != {"title", "url"}:
            problems.append(f"item {index + 1} must have exactly a title and a url")
            continue
        title, url = item["title"], item["url"]
        if not isinstance(title, str) or not title.strip() or len(title) > 300:
            problems.append(f"item {index + 1}: the title must be text of 1 to 300 characters")
        if not isinstance(url, str) or not URL_RE.match(url) or len(url) > 500:
            problems.append(f"item {index + 1}: the url must start with http:// or https:// (got {url!r})")
    return problems


def _sources(check: _Checker) -> tuple[dict, ...]:
    value = check.data.get("sources")
    if value is None:
        return ()
    problems = sources_problems(value)
    for problem in problems:
        check.error("sources", problem)
    if problems:
        return ()
    return tuple({"title": item["title"].strip(), "url": item["url"].strip()} for item in value)


def _checked_on(check: _Checker) -> dt.date | None:
    value = check.data.get("checked_on")
    if value is None:
        return None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    check.error("checked_on", f"must be a date like 2026-12-07 (got {value!r})")
    return None


def _published_at(check: _Checker) -> dt.datetime | None:
    value = check.data.get("published_at")
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
    check.error("published_at", f"must be a date like 2026-01-31 (got {value!r})")
    return None


def parse_article(path: Path, root: Path, out: ContentSet) -> None:
    read = _read(path, root, out.errors)
    if read is None:
        return
    data, body, digest, source = read
    check = _Checker(source, data, out.errors)
    before = len(out.errors)
    slug = check.slug("slug")
    if slug and slug != path.stem:
        check.error("slug", f"{slug!r} does not match the file name {path.name!r}")
    title = check.text("title", max_length=200)
    category = check.slug("category")
    level = check.text("level")
    if level and level not in LEVELS:
        check.error("level", f"must be one of {', '.join(LEVELS)} (got {level!r})")
    summary = check.text("summary")
    seo = check.text("seo_description", required=False, max_length=300)
    terms = data.get("related_terms") or []
    if not isinstance(terms, list) or not all(isinstance(t, str) and SLUG_RE.match(t) for t in terms):
        check.error("related_terms", "must be a list of glossary slugs")
        terms = []
    path_order = check.integer("path_order")
    if "disclaimer" in data and not isinstance(data["disclaimer"], bool):
        check.error("disclaimer", f"must be true or false (got {data['disclaimer']!r})")
    published_at = _published_at(check)
    sources = _sources(check)
    checked_on = _checked_on(check)
    if checked_on and not sources:
        check.error("checked_on", "a checked-on date needs the sources it was checked against ('sources')")
    if not body.strip():
        out.errors.append(f"{source}: the article has no body below the front matter")
    check.unknown_keys(ARTICLE_KEYS, out.warnings)
    if len(out.errors) == before:
        out.articles.append(ArticleIn(
            slug=slug, title=title, category=category, level=level, summary=summary, seo_description=seo,
            body_markdown=body, related_terms=tuple(dict.fromkeys(terms)), path_order=path_order,
            published_at=published_at, source_hash=digest, source=source, sources=sources, checked_on=checked_on,
        ))


def parse_term(path: Path, root: Path, out: ContentSet) -> None:
    read = _read(path, root, out.errors)
    if read is None:
        return
    data, body, digest, source = read
    check = _Checker(source, data, out.errors)
    before = len(out.errors)
    slug = check.slug("slug")
    if slug and slug != path.stem:
        check.error("slug", f"{slug!r} does not match the file name {path.name!r}")
    term = check.text("term", max_length=120)
    short = check.text("short_definition", max_length=400)
    related = check.slug("related_article", required=False) or None
    check.unknown_keys(TERM_KEYS, out.warnings)
    if len(out.errors) == before:
        out.terms.append(TermIn(
            slug=slug, term=term, short_definition=short, explanation_markdown=body,
            related_article=related, source_hash=digest, source=source,
        ))


def parse_categories(path: Path, root: Path, out: ContentSet) -> None:
    source = str(path.relative_to(root.parent)) if root.parent in path.parents else str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as exc:
        out.errors.append(f"{source}: not valid YAML: {exc}")
        return
    if not isinstance(data, list):
        out.errors.append(f"{source}: must be a list of categories")
        return
    for index, item in enumerate(data):
        where = f"{source}[{index}]"
        if not isinstance(item, dict):
            out.errors.append(f"{where}: each category must be a mapping")
            continue
        check = _Checker(where, item, out.errors)
        before = len(out.errors)
        slug = check.slug("slug")
        name = check.text("name", max_length=120)
        description = check.text("description", required=False)
        order = check.integer("order") or 0
        check.unknown_keys(CATEGORY_KEYS, out.warnings)
        if len(out.errors) == before:
            digest = sha256(json.dumps(item, sort_keys=True, default=str).encode())
            out.categories.append(CategoryIn(slug=slug, name=name, description=description, order=order,
                                             source_hash=digest, source=where))


def _check_duplicates(kind: str, items: list, errors: list[str]) -> None:
    seen: dict[str, str] = {}
    for item in items:
        if item.slug in seen:
            errors.append(f"{item.source}: 'slug': {item.slug!r} is also used by {seen[item.slug]} ({kind})")
        seen.setdefault(item.slug, item.source)


def read_content(root: Path) -> ContentSet:
    """Read and validate the whole folder. Never raises for bad content:
    problems land in ``errors`` (fatal) or ``warnings`` (reported)."""
    out = ContentSet()
    if not root.is_dir():
        out.errors.append(f"{root}: content folder not found")
        return out
    categories = root / "categories.yaml"
    if categories.exists():
        parse_categories(categories, root, out)
    for path in sorted((root / "glossary").glob("*.md")):
        parse_term(path, root, out)
    for path in sorted((root / "articles").glob("*.md")):
        parse_article(path, root, out)
    _check_duplicates("category", out.categories, out.errors)
    _check_duplicates("glossary term", out.terms, out.errors)
    _check_duplicates("article", out.articles, out.errors)
    seen_terms: dict[str, str] = {}
    for term in out.terms:
        key = term.term.casefold()
        if key in seen_terms:
            out.errors.append(f"{term.source}: 'term': {term.term!r} is also defined in {seen_terms[key]}")
        seen_terms.setdefault(key, term.source)
    return out
