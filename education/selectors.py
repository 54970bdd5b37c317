"""Reads of learning content. Every public read goes through
:func:`published_articles`, so draft (or not-yet-due) articles never leak;
only :func:`article_get_for_reader` lets staff with the view permission
preview a draft."""

from __future__ import annotations

import string
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Lower
from django.http import Http404
from django.utils import timezone

from education.markdown import GlossaryEntry, term_phrases
from education.models import Article, Category, GlossaryTerm, Level, Status

SEARCH_CONFIG = "english"
MAX_QUERY_LENGTH = 200


def published_articles() -> QuerySet[Article]:
    """Articles a reader may see: published, publish date reached."""
    return Article.objects.filter(status=Status.PUBLISHED, published_at__lte=timezone.now())


def can_preview_drafts(user) -> bool:
    return bool(user and user.is_active and user.is_staff and user.has_perm("education.view_article"))


def article_get_for_reader(*, slug: str, user=None) -> Article:
    """The article page's getter: published for everyone, any status for
    staff who may view articles (draft preview). 404 otherwise."""
    qs = Article.objects.all() if can_preview_drafts(user) else published_articles()
    try:
        return qs.select_related("category").get(slug=slug)
    except Article.DoesNotExist:
        raise Http404("No such article") from None


def article_get_published(*, slug: str) -> Article:
    try:
        return published_articles().select_related("category").get(slug=slug)
    except Article.DoesNotExist:
        raise Http404("No such article") from None


def article_related_terms(*, article: Article) -> QuerySet[GlossaryTerm]:
    return article.related_terms.order_by(Lower("term"))


def article_list(*, category: str | None = None, level: str | None = None, q: str | None = None) -> QuerySet[Article]:
    """Published articles, filtered; ranked by relevance when ``q`` is given,
    otherwise in learning-path order."""
    qs = published_articles().select_related("category")
    if category:
        qs = qs.filter(category__slug=category)
    if level:
        qs = qs.filter(level=level)
    if q:
        return search_articles(qs=qs, q=q)
    return qs.order_by("category__order", "path_order", "title")


def learning_path() -> list[Article]:
    return list(
        published_articles().filter(path_order__isnull=False).select_related("category").order_by("path_order", "title")
    )


def path_neighbours(*, article: Article, path: list[Article]) -> tuple[Article | None, Article | None]:
    slugs = [a.slug for a in path]
    if article.slug not in slugs:
        return None, None
    i = slugs.index(article.slug)
    return (path[i - 1] if i > 0 else None), (path[i + 1] if i + 1 < len(path) else None)


def categories_with_articles(*, level: str | None = None) -> list[Category]:
    """Categories that have published articles (at ``level`` if given), each
    with ``.published`` — two queries whatever the number of categories."""
    articles = published_articles().order_by("path_order", "title")
    if level:
        articles = articles.filter(level=level)
    categories = Category.objects.order_by("order", "name").prefetch_related(
        Prefetch("articles", queryset=articles, to_attr="published")
    )
    return [c for c in categories if c.published]


def category_list() -> QuerySet[Category]:
    published = Q(articles__status=Status.PUBLISHED, articles__published_at__lte=timezone.now())
    return Category.objects.annotate(article_count=Count("articles", filter=published)).order_by("order", "name")


# --- Glossary ------------------------------------------------------------------------


def glossary_terms() -> QuerySet[GlossaryTerm]:
    """All terms A–Z, with a published related article attached as
    ``.published_article`` (None for drafts) by :func:`with_public_article`."""
    return GlossaryTerm.objects.select_related("related_article").order_by(Lower("term"), "slug")


def with_public_article(term: GlossaryTerm) -> GlossaryTerm:
    """Hide a draft related article: readers only see published ones."""
    article = term.related_article
    term.public_article = article if article is not None and article.is_public else None
    return term


@dataclass
class Letter:
    letter: str
    terms: list[GlossaryTerm]


def glossary_by_letter() -> list[Letter]:
    """Every letter A–Z (and "#" when used), empty ones included so the
    letter navigation is complete."""
    groups: dict[str, list[GlossaryTerm]] = {c: [] for c in string.ascii_uppercase}
    for term in glossary_terms():
        groups.setdefault(term.letter, []).append(with_public_article(term))
    letters = [Letter(c, groups[c]) for c in string.ascii_uppercase]
    if groups.get("#"):
        letters.append(Letter("#", groups["#"]))
    return letters


def term_get(*, slug: str) -> GlossaryTerm:
    try:
        return with_public_article(glossary_terms().get(slug=slug))
    except GlossaryTerm.DoesNotExist:
        raise Http404("No such term") from None


def term_articles(*, term: GlossaryTerm) -> QuerySet[Article]:
    """Published articles that list the term as related."""
    return published_articles().filter(related_terms=term).order_by("path_order", "title")


def glossary_link_entries() -> list[GlossaryEntry]:
    """What the markdown renderer links: every term and the phrases that
    mention it."""
    return [
        GlossaryEntry(slug=slug, url=f"/learn/glossary/{slug}/", phrases=term_phrases(term))
        for slug, term in GlossaryTerm.objects.order_by("slug").values_list("slug", "term")
    ]


# --- Search --------------------------------------------------------------------------


def _clean_query(q: str) -> str:
    return " ".join((q or "").split())[:MAX_QUERY_LENGTH]


def search_articles(*, qs: QuerySet[Article] | None = None, q: str) -> QuerySet[Article]:
    """Published articles matching ``q``, best first.

    PostgreSQL: full-text search on the stored weighted vector (title A,
    summary B, body C; GIN index), ranked by ``SearchRank``. Elsewhere (the
    SQLite embedded default): :func:`search_articles_fallback`."""
    qs = published_articles().select_related("category") if qs is None else qs
    q = _clean_query(q)
    if not q:
        return qs.none()
    if connection.vendor != "postgresql":
        return search_articles_fallback(qs=qs, q=q)
    query = SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
    return (
        qs.filter(search_vector=query)
        # F(): a plain string would be re-parsed by to_tsvector, losing the weights.
        .annotate(rank=SearchRank(F("search_vector"), query))
        .order_by("-rank", "title")
    )


def search_articles_fallback(*, qs: QuerySet[Article], q: str) -> QuerySet[Article]:
    """Substring search without PostgreSQL: every word must appear somewhere;
    a title match ranks above a summary match above a body-only match."""
    words = _clean_query(q).split()
    if not words:
        return qs.none()
    for word in words:
        qs = qs.filter(Q(title__icontains=word) | Q(summary__icontains=word) | Q(body_markdown__icontains=word))
    title_hits = Q()
    summary_hits = Q()
    for word in words:
        title_hits |= Q(title__icontains=word)
        summary_hits |= Q(summary__icontains=word)
    return qs.annotate(
        rank=Case(
            When(title_hits, then=Value(3)),
            When(summary_hits, then=Value(2)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("-rank", "title")


def search_terms(*, q: str) -> QuerySet[GlossaryTerm]:
    """Glossary terms matching ``q``: term A, short definition B, explanation
    C. The table is small, so the vector is computed per query."""
    q = _clean_query(q)
    qs = glossary_terms()
    if not q:
        return qs.none()
    if connection.vendor != "postgresql":
        return search_terms_fallback(qs=qs, q=q)
    query = SearchQuery(q, search_type="websearch", config=SEARCH_CONFIG)
    vector = (
        SearchVector("term", weight="A", config=SEARCH_CONFIG)
        + SearchVector("short_definition", weight="B", config=SEARCH_CONFIG)
        + SearchVector("explanation_markdown", weight="C", config=SEARCH_CONFIG)
    )
    return (
        qs.annotate(search=vector, rank=SearchRank(vector, query)).filter(search=query).order_by("-rank", Lower("term"))
    )


def search_terms_fallback(*, qs: QuerySet[GlossaryTerm], q: str) -> QuerySet[GlossaryTerm]:
    words = _clean_query(q).split()
    if not words:
        return qs.none()
    for word in words:
        qs = qs.filter(
            Q(term__icontains=word) | Q(short_definition__icontains=word) | Q(explanation_markdown__icontains=word)
        )
    term_hits = Q()
    for word in words:
        term_hits |= Q(term__icontains=word)
    return qs.annotate(
        rank=Case(When(term_hits, then=Value(2)), default=Value(1), output_field=IntegerField())
    ).order_by("-rank", Lower("term"))


def valid_level(value: str | None) -> str | None:
    return value if value in Level.values else None
