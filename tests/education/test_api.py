"""/api/v1/learn/…: public, read-only, published content only."""

import pytest
from django.urls import reverse
from django.utils import timezone

from education.models import Level
from tests.education.factories import ArticleFactory, CategoryFactory, GlossaryTermFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def il_term():
    return GlossaryTermFactory(term="Impermanent loss", slug="impermanent-loss")


@pytest.fixture
def article(il_term):
    return ArticleFactory(
        title="Impermanent loss, with worked numbers", slug="impermanent-loss", level=Level.INTERMEDIATE,
        category=CategoryFactory(slug="liquidity-provision", name="Liquidity provision"),
        body_markdown="\n\n".join(f"## Part {n}\n\nimpermanent loss {n}" for n in range(4)),
        related_terms=[il_term], path_order=4,
    )


@pytest.fixture
def draft():
    return ArticleFactory(title="Draft about impermanent loss", slug="draft-article", draft=True)


def test_the_article_list_is_public_and_paginated(api_client, article, draft):
    response = api_client.get("/api/v1/learn/articles/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    item = body["results"][0]
    assert item["slug"] == "impermanent-loss"
    assert item["category"] == "liquidity-provision" and item["level"] == "intermediate"
    assert item["url"] == "http://testserver/learn/articles/impermanent-loss/"
    assert "body_html" not in item


def test_the_article_detail_has_html_toc_markdown_and_terms(api_client, article):
    body = api_client.get("/api/v1/learn/articles/impermanent-loss/").json()
    assert body["body_html"].startswith('<h2 id="part-0">')
    assert body["body_markdown"].startswith("## Part 0")
    assert [entry["id"] for entry in body["toc"]] == ["part-0", "part-1", "part-2", "part-3"]
    assert body["related_terms"][0]["slug"] == "impermanent-loss"
    assert body["related_terms"][0]["url"] == "http://testserver/learn/glossary/impermanent-loss/"


@pytest.mark.parametrize(
    "url",
    ["/api/v1/learn/articles/draft-article/", "/api/v1/learn/articles/scheduled/", "/api/v1/learn/articles/nope/",
     "/api/v1/learn/glossary/nope/"],
)
def test_drafts_and_unknown_slugs_are_404(api_client, draft, url):
    ArticleFactory(slug="scheduled", published_at=timezone.now() + timezone.timedelta(days=1))
    assert api_client.get(url).status_code == 404


def test_drafts_are_404_in_the_api_even_for_staff(api_client, draft, editor):
    api_client.force_authenticate(editor)
    assert api_client.get("/api/v1/learn/articles/draft-article/").status_code == 404
    assert api_client.get("/api/v1/learn/articles/").json()["count"] == 0


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "liquidity-provision"}, ["impermanent-loss"]),
        ({"category": "other"}, ["staking"]),
        ({"level": "beginner"}, ["staking"]),
        ({"level": "intermediate", "category": "liquidity-provision"}, ["impermanent-loss"]),
        ({"q": "impermanent"}, ["impermanent-loss"]),
        ({"q": "validators"}, ["staking"]),
        ({"q": "nothing-matches-this"}, []),
    ],
)
def test_the_article_list_filters_by_category_level_and_search(api_client, article, draft, params, expected):
    ArticleFactory(slug="staking", title="Staking", category=CategoryFactory(slug="other"), level=Level.BEGINNER,
                   summary="Validators and slashing.")
    body = api_client.get("/api/v1/learn/articles/", params).json()
    assert [item["slug"] for item in body["results"]] == expected


def test_an_invalid_level_is_a_400(api_client):
    assert api_client.get("/api/v1/learn/articles/", {"level": "expert"}).status_code == 400


def test_categories_count_published_articles_only(api_client, article, draft):
    body = api_client.get("/api/v1/learn/categories/").json()
    counts = {c["slug"]: c["article_count"] for c in body["results"]}
    assert counts["liquidity-provision"] == 1
    assert counts[draft.category.slug] == 0


def test_glossary_list_and_detail(api_client, article, il_term):
    il_term.related_article = article
    il_term.save()
    hidden = GlossaryTermFactory(term="Arbitrage", slug="arbitrage",
                                 related_article=ArticleFactory(draft=True))
    body = api_client.get("/api/v1/learn/glossary/").json()
    assert [t["slug"] for t in body["results"]] == ["arbitrage", "impermanent-loss"]
    assert {t["slug"]: t["related_article"] for t in body["results"]} == {
        "arbitrage": None, "impermanent-loss": "impermanent-loss"}
    detail = api_client.get(f"/api/v1/learn/glossary/{hidden.slug}/").json()
    assert detail["explanation_html"] == "<p>A longer explanation with <strong>markdown</strong>.</p>"
    assert detail["related_article"] is None


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_the_api_is_read_only(api_client, article, method):
    response = getattr(api_client, method)("/api/v1/learn/articles/impermanent-loss/", {})
    assert response.status_code in (403, 405)


@pytest.mark.parametrize("url", ["/api/v1/learn/articles/", "/api/v1/learn/glossary/", "/api/v1/learn/categories/"])
def test_api_lists_run_a_constant_number_of_queries(api_client, url, django_assert_max_num_queries):
    def make(n):
        for _ in range(n):
            category = CategoryFactory()
            ArticleFactory(category=category, related_terms=[GlossaryTermFactory()])
            GlossaryTermFactory(related_article=ArticleFactory(category=category))

    make(2)
    with django_assert_max_num_queries(3) as small:
        api_client.get(url)
    make(8)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert api_client.get(url).status_code == 200


def test_the_schema_documents_the_learn_endpoints_without_warnings(capsys):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    for path in ["/api/v1/learn/categories/", "/api/v1/learn/articles/", "/api/v1/learn/articles/{slug}/",
                 "/api/v1/learn/glossary/", "/api/v1/learn/glossary/{slug}/"]:
        assert "get" in paths[path], path
    params = {p["name"] for p in paths["/api/v1/learn/articles/"]["get"]["parameters"]}
    assert {"category", "level", "q", "page", "page_size"} <= params
    captured = capsys.readouterr()
    assert "learn" not in captured.err.lower() and "education" not in captured.err.lower(), captured.err


def test_the_schema_endpoint_serves(api_client):
    assert api_client.get(reverse("api-schema")).status_code == 200
