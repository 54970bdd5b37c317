"""Writes to learning content. Every save of an article or a glossary term
goes through here, so the stored HTML, table of contents, reading time and
search vector always match the markdown."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import reversion
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.utils import timezone

from education import markdown as md
from education.content_files import ArticleIn, CategoryIn, ContentError, TermIn, read_content
from education.models import Article, Category, ContentUpdate, GlossaryTerm, Status
from education.selectors import glossary_link_entries

CONTENT_ROOT = Path(settings.BASE_DIR) / "education" / "content"
SEARCH_CONFIG = "english"


# --- Rendering -----------------------------------------------------------------


def _render_article_fields(article: Article, entries: list[md.GlossaryEntry]) -> None:
    rendered = md.render(article.body_markdown, glossary=entries, with_toc=True)
    article.body_html = rendered.html
    article.toc = rendered.toc
    article.reading_time = rendered.reading_time


def _render_term_fields(term: GlossaryTerm) -> None:
    term.explanation_html = md.render(term.explanation_markdown, with_toc=False).html


def _article_update_search_vector(*, article_ids: list[int]) -> None:
    """Weighted vector: title A, summary B, body C. PostgreSQL only; the
    SQLite fallback search reads the columns directly."""
    if connection.vendor != "postgresql" or not article_ids:
        return
    vector = (
        SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("summary", weight="B", config=SEARCH_CONFIG)
        + SearchVector("body_markdown", weight="C", config=SEARCH_CONFIG)
    )
    Article.objects.filter(pk__in=article_ids).update(search_vector=vector)


def articles_rerender(*, article_ids: list[int] | None = None) -> int:
    """Re-render stored HTML (e.g. after glossary terms changed, which changes
    the links in article bodies). Uses ``update()``: a re-render is not an
    edit, so it neither bumps ``updated_at`` nor records a version."""
    entries = glossary_link_entries()
    qs = Article.objects.all() if article_ids is None else Article.objects.filter(pk__in=article_ids)
    count = 0
    for article in qs.only("pk", "body_markdown"):
        _render_article_fields(article, entries)
        Article.objects.filter(pk=article.pk).update(
            body_html=article.body_html,
            toc=article.toc,
            reading_time=article.reading_time,
        )
        count += 1
    return count


# --- Articles ------------------------------------------------------------------


@transaction.atomic
def article_save(*, article: Article, related_terms: list[GlossaryTerm] | None = None) -> Article:
    """Render, validate and save an article (new or changed).

    ``related_terms``: when given, replaces the article's related terms."""
    _render_article_fields(article, glossary_link_entries())
    if article.status == Status.PUBLISHED and article.published_at is None:
        article.published_at = timezone.now()
    article.full_clean()
    article.save()
    if related_terms is not None:
        article.related_terms.set(related_terms)
    _article_update_search_vector(article_ids=[article.pk])
    return article


@transaction.atomic
def article_publish(*, article: Article, when: dt.datetime | None = None) -> Article:
    """Publish now (or at ``when``). A date set earlier by an editor is kept
    unless ``when`` is given."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    article.status = Status.PUBLISHED
    if when is not None:
        article.published_at = when
    elif article.published_at is None:
        article.published_at = timezone.now()
    article.full_clean()
    article.save(update_fields=["status", "published_at", "updated_at"])
    return article


@transaction.atomic
def article_unpublish(*, article: Article) -> Article:
    article = Article.objects.select_for_update().get(pk=article.pk)
    article.status = Status.DRAFT
    article.save(update_fields=["status", "updated_at"])
    return article


@transaction.atomic
def article_delete(*, article: Article) -> None:
    """Delete an article. Terms that pointed at it lose the link; a term the
    loader still owns stays the loader's (the lost link is not an editor's
    edit), so a reload can link it again."""
    owned = []
    for term in GlossaryTerm.objects.filter(related_article=article):
        if term_fingerprint(term, article.slug) == term.loaded_fingerprint:
            owned.append(term.pk)
    article.delete()
    for term in GlossaryTerm.objects.filter(pk__in=owned):
        GlossaryTerm.objects.filter(pk=term.pk).update(loaded_fingerprint=term_fingerprint(term, None))


# --- Glossary and categories ------------------------------------------------------


@transaction.atomic
def term_save(*, term: GlossaryTerm, rerender_articles: bool = True) -> GlossaryTerm:
    """Render, validate and save a glossary term. Articles link the first
    mention of every term, so by default they are re-rendered too."""
    _render_term_fields(term)
    term.full_clean()
    term.save()
    if rerender_articles:
        articles_rerender()
    return term


@transaction.atomic
def term_delete(*, term: GlossaryTerm) -> None:
    term.delete()
    articles_rerender()


@transaction.atomic
def category_save(*, category: Category) -> Category:
    category.full_clean()
    category.save()
    return category


# --- The Editors group ----------------------------------------------------------------

EDITORS_GROUP = "Editors"


@transaction.atomic
def editors_group_ensure():
    """The Editors group with exactly add/change/delete/view on the education
    models, and view/change on content updates. Migration 0002 creates it; this restores it (e.g. after a test
    database flush, or if an admin deleted it) and resets its permissions."""
    models = [Category, Article, GlossaryTerm]
    content_types = [*ContentType.objects.get_for_models(*models, ContentUpdate).values()]
    codenames = [f"{action}_{m._meta.model_name}" for m in models for action in ("add", "change", "delete", "view")]
    # File versions waiting for review: editors apply or dismiss them (migration 0004).
    codenames += ["view_contentupdate", "change_contentupdate"]
    perms = Permission.objects.filter(content_type__in=content_types, codename__in=codenames)
    group, _ = Group.objects.get_or_create(name=EDITORS_GROUP)
    group.permissions.set(perms)
    return group


# --- The content loader ---------------------------------------------------------


def _fingerprint(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


def category_fingerprint(category: Category) -> str:
    return _fingerprint({"name": category.name, "description": category.description, "order": category.order})


def term_fingerprint(term: GlossaryTerm, related_article_slug: str | None) -> str:
    return _fingerprint(
        {
            "term": term.term,
            "short_definition": term.short_definition,
            "explanation_markdown": term.explanation_markdown,
            "related_article": related_article_slug,
        }
    )


def article_fingerprint(article: Article, category_slug: str, term_slugs: list[str]) -> str:
    values: dict[str, object] = {
        "title": article.title, "category": category_slug, "level": article.level, "status": article.status,
        "summary": article.summary, "seo_description": article.seo_description,
        "body_markdown": article.body_markdown, "path_order": article.path_order,
        "related_terms": sorted(term_slugs),
    }
    # Sources and the checked-on date came later: left out while empty, so
    # the fingerprints of articles loaded before them still match (an
    # untouched article stays the loader's and updates in place).
    if article.sources:
        values["sources"] = [[s.get("title"), s.get("url")] for s in article.sources]
    if article.checked_on:
        values["checked_on"] = article.checked_on.isoformat()
    return _fingerprint(values)


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # changed by an editor since it was loaded: left alone
    offered: int = 0  # of those, a new file version now waits for an editor's review
    warnings: list[str] = field(default_factory=list)
    skipped_items: list[str] = field(default_factory=list)
    offered_items: list[str] = field(default_factory=list)

    def count(self, outcome: str, label: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        if outcome == "skipped":
            self.skipped_items.append(label)

    def offer(self, label: str) -> None:
        self.offered += 1
        self.offered_items.append(label)

    def __str__(self) -> str:
        return (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.skipped} skipped (changed by an editor), {self.offered} new versions for review")


@contextmanager
def _loader_revision(label: str, user) -> Iterator[None]:
    """One revision per item: reverting one article in the admin must not
    roll back everything else the same load wrote."""
    with reversion.create_revision():
        if user is not None:
            reversion.set_user(user)
        reversion.set_comment(f"{label} loaded from education/content/")
        yield


def _decide(obj, current_fp: str, desired_fp: str) -> str:
    """created/updated/unchanged/skipped for an existing loaded object.

    An object counts as the loader's own while its current fingerprint still
    equals the one the loader wrote. Anything else means a person changed it
    (or it was never loaded from a file): it is never overwritten."""
    if current_fp != obj.loaded_fingerprint:
        return "skipped"
    if current_fp == desired_fp:
        return "unchanged"
    return "updated"


def _offer_update(*, kind: str, slug: str, source_hash: str, values: dict, report: LoadReport) -> None:
    """Store the file's version of an item an editor changed, for review.

    Once per file version: a version an editor applied or dismissed is not
    offered again, and an undecided older version gives way to the newer."""
    if ContentUpdate.objects.filter(kind=kind, slug=slug, source_hash=source_hash).exists():
        return
    ContentUpdate.objects.filter(kind=kind, slug=slug, state=ContentUpdate.State.PENDING).delete()
    ContentUpdate.objects.create(kind=kind, slug=slug, source_hash=source_hash, values=values)
    report.offer(f"{kind} {slug}")


def _load_categories(items: list[CategoryIn], report: LoadReport, *, user) -> None:
    existing = {c.slug: c for c in Category.objects.all()}
    for item in items:
        values = {"name": item.name, "description": item.description, "order": item.order}
        category = existing.get(item.slug)
        if category is None:
            category = Category(slug=item.slug, **values)
            outcome = "created"
        else:
            desired = Category(**values)
            outcome = _decide(category, category_fingerprint(category), category_fingerprint(desired))
            if outcome != "updated":
                report.count(outcome, f"category {item.slug}")
                continue
            for key, value in values.items():
                setattr(category, key, value)
        category.source_hash = item.source_hash
        category.loaded_fingerprint = category_fingerprint(category)
        with _loader_revision(f"category {item.slug}", user):
            category_save(category=category)
        report.count(outcome, f"category {item.slug}")


def _load_terms(items: list[TermIn], article_slugs: set[str], report: LoadReport, *, user) -> list:
    """Create/update terms; the link to their article is set afterwards, when
    every article exists. Returns the (item, outcome) pairs to link."""
    existing = {t.slug: t for t in GlossaryTerm.objects.select_related("related_article")}
    to_link = []
    for item in items:
        related = item.related_article if item.related_article in article_slugs else None
        if item.related_article and related is None:
            report.warnings.append(f"{item.source}: 'related_article': no article {item.related_article!r}, not linked")
        term = existing.get(item.slug)
        values = {
            "term": item.term,
            "short_definition": item.short_definition,
            "explanation_markdown": item.explanation_markdown,
        }
        if term is None:
            term = GlossaryTerm(slug=item.slug, **values)
            outcome = "created"
        else:
            current_related = term.related_article.slug if term.related_article else None
            current = term_fingerprint(term, current_related)
            desired = term_fingerprint(GlossaryTerm(**values), related)
            outcome = _decide(term, current, desired)
            if outcome == "skipped" and item.source_hash != term.source_hash and current != desired:
                _offer_update(kind=ContentUpdate.Kind.TERM, slug=item.slug, source_hash=item.source_hash,
                              values={**values, "related_article": related}, report=report)
            if outcome != "updated":
                report.count(outcome, f"term {item.slug}")
                continue
            for key, value in values.items():
                setattr(term, key, value)
        term.source_hash = item.source_hash
        term.loaded_fingerprint = term_fingerprint(term, related)
        with _loader_revision(f"term {item.slug}", user):
            term_save(term=term, rerender_articles=False)
        report.count(outcome, f"term {item.slug}")
        to_link.append((term, related))
    return to_link


def _load_articles(items: list[ArticleIn], report: LoadReport, *, user, now: dt.datetime,
                   new_status: str = Status.PUBLISHED) -> None:
    categories = {c.slug: c for c in Category.objects.all()}
    terms = {t.slug: t for t in GlossaryTerm.objects.all()}
    existing = {a.slug: a for a in Article.objects.select_related("category").prefetch_related("related_terms")}
    for item in items:
        category = categories[item.category]
        term_slugs = [slug for slug in item.related_terms if slug in terms]
        for missing in (slug for slug in item.related_terms if slug not in terms):
            report.warnings.append(f"{item.source}: 'related_terms': no glossary term {missing!r}, not linked")
        values = {
            "title": item.title, "category": category, "level": item.level, "summary": item.summary,
            "seo_description": item.seo_description, "body_markdown": item.body_markdown,
            "path_order": item.path_order, "sources": [dict(s) for s in item.sources], "checked_on": item.checked_on,
        }
        article = existing.get(item.slug)
        if article is None:
            published = new_status == Status.PUBLISHED
            article = Article(slug=item.slug, status=new_status, author=user,
                              published_at=(item.published_at or now) if published else item.published_at, **values)
            outcome = "created"
        else:
            current = article_fingerprint(article, article.category.slug,
                                          [t.slug for t in article.related_terms.all()])
            # The status stays what the loader wrote (published, or a draft
            # made with new_as_drafts): only a person publishes or unpublishes.
            desired = article_fingerprint(Article(status=article.status, **values), item.category, term_slugs)
            outcome = _decide(article, current, desired)
            if outcome == "skipped" and item.source_hash != article.source_hash and current != desired:
                _offer_update(kind=ContentUpdate.Kind.ARTICLE, slug=item.slug, source_hash=item.source_hash,
                              values=_article_values_json(values, item.category, term_slugs), report=report)
            if outcome != "updated":
                report.count(outcome, f"article {item.slug}")
                continue
            for key, value in values.items():
                setattr(article, key, value)
            if item.published_at:
                article.published_at = item.published_at
        article.source_hash = item.source_hash
        article.loaded_fingerprint = article_fingerprint(article, item.category, term_slugs)
        with _loader_revision(f"article {item.slug}", user):
            article_save(article=article, related_terms=[terms[slug] for slug in term_slugs])
        report.count(outcome, f"article {item.slug}")


def _article_values_json(values: dict, category_slug: str, term_slugs: list[str]) -> dict:
    """An article's editable fields as JSON (related items by slug)."""
    out = {key: value for key, value in values.items() if key not in {"category", "checked_on"}}
    out["category"] = category_slug
    out["related_terms"] = list(term_slugs)
    out["checked_on"] = values["checked_on"].isoformat() if values.get("checked_on") else None
    return out


def content_load(*, root: Path = CONTENT_ROOT, user=None, now: dt.datetime | None = None,
                 new_as_drafts: bool = False) -> LoadReport:
    """Load categories, glossary terms and articles from ``root``.

    Safe to re-run: creates what is missing, updates what the loader itself
    wrote and nobody changed since, and never overwrites an editor's change:
    when the file behind an item an editor changed has changed too, the
    file's version waits in a :class:`ContentUpdate` for an editor to apply
    or dismiss. Articles are published on creation with ``published_at`` from
    the front matter or ``now``, or created as drafts for an editor to
    publish with ``new_as_drafts``. Raises ``ContentError`` (every problem, each naming the
    file and the key) before writing anything if the content is invalid."""
    now = now or timezone.now()
    content = read_content(root)
    report = LoadReport(warnings=list(content.warnings))
    errors = list(content.errors)
    known_categories = {c.slug for c in content.categories} | set(Category.objects.values_list("slug", flat=True))
    for item in content.articles:
        if item.category not in known_categories:
            errors.append(f"{item.source}: 'category': no category {item.category!r} in categories.yaml")
    if errors:
        raise ContentError(errors)

    article_slugs = {a.slug for a in content.articles} | set(Article.objects.values_list("slug", flat=True))
    with transaction.atomic():
        _load_categories(content.categories, report, user=user)
        to_link = _load_terms(content.terms, article_slugs, report, user=user)
        _load_articles(content.articles, report, user=user, now=now,
                       new_status=Status.DRAFT if new_as_drafts else Status.PUBLISHED)
        # Terms point at articles, which exist only now.
        by_slug = {a.slug: a for a in Article.objects.only("pk", "slug")}
        for term, related in to_link:
            article = by_slug.get(related) if related else None
            if term.related_article_id != (article.pk if article else None):
                term.related_article = article
                with _loader_revision(f"term {term.slug}", user):
                    term.save(update_fields=["related_article", "updated_at"])
        # Glossary links in article bodies depend on every term.
        articles_rerender()
    return report


# --- Reviewing a file's newer version of an edited item -------------------------------


class ContentUpdateError(Exception):
    """The file version cannot be applied (say, its category no longer exists)."""


def _article_from_values(article: Article, values: dict) -> list[GlossaryTerm]:
    try:
        category = Category.objects.get(slug=values["category"])
    except Category.DoesNotExist:
        raise ContentUpdateError(f"no category {values['category']!r}") from None
    for key in ("title", "level", "summary", "seo_description", "body_markdown", "path_order", "sources"):
        setattr(article, key, values[key])
    article.category = category
    article.checked_on = dt.date.fromisoformat(values["checked_on"]) if values.get("checked_on") else None
    return list(GlossaryTerm.objects.filter(slug__in=values["related_terms"]))


@transaction.atomic
def content_update_apply(*, update: ContentUpdate, user) -> Article | GlossaryTerm:
    """Apply a file version an editor reviewed: the item takes the file's text
    (an article keeps its status: a draft stays a draft, a published article
    shows the new text at once) and belongs to the files again, so later
    file changes update it in place until a person edits it again. The
    editor's version stays in the item's history, one revert away."""
    update = ContentUpdate.objects.select_for_update().get(pk=update.pk)
    if update.state != ContentUpdate.State.PENDING:
        raise ContentUpdateError(f"this version was already {update.get_state_display().lower()}")
    values = update.values
    with reversion.create_revision():
        reversion.set_user(user)
        reversion.set_comment(f"Applied the content file's version of {update.created_at:%Y-%m-%d}")
        if update.kind == ContentUpdate.Kind.ARTICLE:
            article = Article.objects.filter(slug=update.slug).select_for_update().first()
            if article is None:  # deleted since: it comes back as a draft
                article = Article(slug=update.slug, status=Status.DRAFT, author=user)
            terms = _article_from_values(article, values)
            article.source_hash = update.source_hash
            article.loaded_fingerprint = article_fingerprint(article, values["category"], [t.slug for t in terms])
            item: Article | GlossaryTerm = article_save(article=article, related_terms=terms)
        else:
            term = GlossaryTerm.objects.filter(slug=update.slug).select_for_update().first() or GlossaryTerm(
                slug=update.slug)
            for key in ("term", "short_definition", "explanation_markdown"):
                setattr(term, key, values[key])
            related = values.get("related_article")
            term.related_article = Article.objects.filter(slug=related).first() if related else None
            term.source_hash = update.source_hash
            term.loaded_fingerprint = term_fingerprint(term, related if term.related_article else None)
            item = term_save(term=term)
    update.state = ContentUpdate.State.APPLIED
    update.decided_by, update.decided_at = user, timezone.now()
    update.save(update_fields=["state", "decided_by", "decided_at"])
    return item


@transaction.atomic
def content_update_dismiss(*, update: ContentUpdate, user) -> ContentUpdate:
    """Keep the editor's version; this file version is not offered again."""
    update = ContentUpdate.objects.select_for_update().get(pk=update.pk)
    if update.state != ContentUpdate.State.PENDING:
        raise ContentUpdateError(f"this version was already {update.get_state_display().lower()}")
    update.state = ContentUpdate.State.DISMISSED
    update.decided_by, update.decided_at = user, timezone.now()
    update.save(update_fields=["state", "decided_by", "decided_at"])
    return update
