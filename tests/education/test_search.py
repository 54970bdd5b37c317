"""Search: PostgreSQL full-text with weights and ranking; the SQLite
fallback tested through its function directly."""

import pytest
from django.db import connection

from education import selectors
from education.models import Article
from tests.education.factories import ArticleFactory, GlossaryTermFactory

pytestmark = pytest.mark.django_db

needs_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="full-text search is PostgreSQL only")


@pytest.fixture
def articles():
    return {
        "title": ArticleFactory(title="Impermanent loss explained", summary="A guide.",
                                body_markdown="Pools rebalance."),
        "summary": ArticleFactory(title="LP tokens", summary="Receipts, and how impermanent loss hits them.",
                                  body_markdown="Nothing else."),
        "body": ArticleFactory(title="Stablecoin pools", summary="Low volatility.",
                               body_markdown="Depegs cause a large impermanent loss for LPs."),
        "unrelated": ArticleFactory(title="Staking", summary="Validators.", body_markdown="Slashing."),
        "draft": ArticleFactory(title="Impermanent loss draft", draft=True),
    }


@needs_postgres
def test_a_title_match_ranks_above_a_summary_match_above_a_body_only_match(articles):
    found = list(selectors.search_articles(q="impermanent loss"))
    assert found == [articles["title"], articles["summary"], articles["body"]]
    assert found[0].rank > found[1].rank > found[2].rank


@needs_postgres
def test_search_stems_words_and_accepts_web_search_syntax(articles):
    assert articles["body"] in selectors.search_articles(q="depegging")
    assert list(selectors.search_articles(q='"impermanent loss" -stablecoin'))[-1] != articles["body"]


@needs_postgres
def test_the_search_vector_is_stored_and_indexed():
    article = ArticleFactory(title="Concentrated liquidity")
    vector = Article.objects.values_list("search_vector", flat=True).get(pk=article.pk)
    assert "'concentr':1A" in vector
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'education_article_search_gin'")
        assert "USING gin (search_vector)" in cursor.fetchone()[0]


@needs_postgres
def test_an_edited_title_is_searchable_at_once():
    from education import services

    article = ArticleFactory(title="Old name")
    article.title = "Health factor"
    services.article_save(article=article)
    assert list(selectors.search_articles(q="health")) == [article]


def test_drafts_are_never_found(articles):
    assert articles["draft"] not in selectors.search_articles(q="draft")
    assert articles["draft"] not in selectors.search_articles_fallback(
        qs=selectors.published_articles(), q="draft")


def test_the_fallback_ranks_title_then_summary_then_body(articles):
    found = list(selectors.search_articles_fallback(qs=selectors.published_articles(), q="impermanent"))
    assert found == [articles["title"], articles["summary"], articles["body"]]


def test_the_fallback_needs_every_word(articles):
    found = selectors.search_articles_fallback(qs=selectors.published_articles(), q="impermanent depegs")
    assert list(found) == [articles["body"]]


@pytest.mark.parametrize("q", ["", "   ", "\n"])
def test_an_empty_query_finds_nothing(articles, q):
    assert not selectors.search_articles(q=q).exists()
    assert not selectors.search_terms(q=q).exists()


def test_terms_are_searched_by_term_before_definition():
    by_name = GlossaryTermFactory(term="Slippage", short_definition="Price moves while you trade.")
    by_definition = GlossaryTermFactory(term="Price impact", short_definition="How much slippage your trade causes.")
    assert list(selectors.search_terms(q="slippage")) == [by_name, by_definition]
    assert list(selectors.search_terms_fallback(qs=selectors.glossary_terms(), q="slippage")) == [
        by_name, by_definition]


def test_a_very_long_query_is_cut_not_refused(articles):
    assert list(selectors.search_articles(q="impermanent " * 200))
