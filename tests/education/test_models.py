"""Invariants the database enforces, whatever code writes the rows."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from education.models import Article, GlossaryTerm, Status
from tests.education.factories import ArticleFactory, CategoryFactory, GlossaryTermFactory

pytestmark = pytest.mark.django_db


def _insert_article(**overrides):
    values = {"title": "T", "slug": "t", "category": CategoryFactory(), "summary": "s", "body_markdown": "b",
              "status": Status.DRAFT, "level": "beginner"}
    values.update(overrides)
    with transaction.atomic():
        Article.objects.create(**values)


@pytest.mark.parametrize(
    "overrides",
    [
        {"status": Status.PUBLISHED, "published_at": None},
        {"status": "archived"},
        {"level": "expert"},
        {"reading_time": 0},
    ],
    ids=["published-without-date", "unknown-status", "unknown-level", "zero-reading-time"],
)
def test_the_database_refuses_an_invalid_article(overrides):
    with pytest.raises(IntegrityError):
        _insert_article(**overrides)


def test_article_slugs_are_unique():
    ArticleFactory(slug="same")
    with pytest.raises(IntegrityError):
        _insert_article(slug="same")


def test_glossary_terms_are_unique_ignoring_case():
    GlossaryTermFactory(term="Slippage")
    with pytest.raises(IntegrityError), transaction.atomic():
        GlossaryTerm.objects.create(term="slippage", slug="slippage-2", short_definition="x")


def test_saving_through_the_service_fills_html_toc_reading_time_and_a_publish_date():
    article = ArticleFactory(status=Status.PUBLISHED, published_at=None,
                             body_markdown=("word " * 450) + "\n\n## A\n\n## B\n\n## C\n\n## D\n")
    assert article.reading_time == 3
    assert [t["id"] for t in article.toc] == ["a", "b", "c", "d"]
    assert article.body_html.startswith("<p>word word")
    assert article.published_at <= timezone.now()


def test_deleting_an_article_keeps_its_glossary_terms():
    article = ArticleFactory()
    term = GlossaryTermFactory(related_article=article)
    article.delete()
    term.refresh_from_db()
    assert term.related_article is None


def test_deleting_a_term_through_the_service_unlinks_it_from_article_bodies():
    from education import services

    term = GlossaryTermFactory(term="Slippage", slug="slippage")
    article = ArticleFactory(body_markdown="Slippage hurts.")
    assert 'href="/learn/glossary/slippage/"' in article.body_html
    services.term_delete(term=term)
    article.refresh_from_db()
    assert article.body_html == "<p>Slippage hurts.</p>"
