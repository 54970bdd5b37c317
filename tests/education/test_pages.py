"""Learn pages: what readers see, what they never see (drafts), and what
staff can preview."""

import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from education.models import Level
from tests.education.factories import ArticleFactory, CategoryFactory, GlossaryTermFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LONG_BODY = "\n\n".join(f"## Part {n}\n\nImpermanent loss text {n}." for n in range(1, 6))


@pytest.fixture
def term():
    return GlossaryTermFactory(term="Impermanent loss", slug="impermanent-loss",
                               short_definition="Shortfall against holding.")


@pytest.fixture
def article(term):
    return ArticleFactory(
        title="Impermanent loss, with worked numbers", slug="impermanent-loss", level=Level.INTERMEDIATE,
        body_markdown=LONG_BODY, path_order=2, related_terms=[term],
    )


@pytest.fixture
def draft():
    return ArticleFactory(title="Secret draft about yields", slug="secret-draft", draft=True, path_order=1,
                          summary="Not ready.", body_markdown="## Draft\n\nyield yield")


@pytest.fixture
def scheduled():
    return ArticleFactory(title="Scheduled piece", slug="scheduled",
                          published_at=timezone.now() + timezone.timedelta(days=3))


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_learn_home_lists_categories_and_the_learning_path_in_order(client, article):
    first = ArticleFactory(title="What liquidity mining really is", path_order=1, category=article.category)
    off_path = ArticleFactory(title="Off the path", path_order=None)

    response = client.get(reverse("education:home"))

    assert response.status_code == 200
    path = [a.slug for a in response.context["path"]]
    assert path == [first.slug, article.slug]
    assert off_path.title in response.content.decode()
    assert [c.pk for c in response.context["categories"]] == sorted(
        {article.category.pk, off_path.category.pk}, key=lambda pk: next(
            c.order for c in response.context["categories"] if c.pk == pk))


def test_learn_home_filters_by_level(client, article):
    beginner = ArticleFactory(title="Beginner piece", level=Level.BEGINNER)
    response = client.get(reverse("education:home"), {"level": "beginner"})
    listed = [a.slug for c in response.context["categories"] for a in c.published]
    assert listed == [beginner.slug]


def test_the_article_page_shows_everything_a_reader_needs(client, article):
    response = client.get(reverse("education:article", args=[article.slug]))
    html = response.content.decode()

    assert response.status_code == 200
    assert "<h1 id=\"article-title\">Impermanent loss, with worked numbers</h1>" in html
    assert "Intermediate" in html
    assert f"{article.reading_time} min read" in html
    assert "Updated <time" in html
    assert 'class="toc article-toc"' in html and 'href="#part-1"' in html
    assert '<h2 id="part-1">' in html
    assert 'class="glossary-link" href="/learn/glossary/impermanent-loss/"' in html
    assert "Terms in this article" in html and "Shortfall against holding." in html
    assert "Not financial advice." in html


def test_a_short_article_has_no_table_of_contents(client):
    short = ArticleFactory(body_markdown="## Only\n\ntext")
    html = client.get(short.get_absolute_url()).content.decode()
    assert "article-toc" not in html


def test_pages_send_a_csp_and_use_no_inline_script_or_style(client, article):
    response = client.get(article.get_absolute_url())
    html = response.content.decode()
    assert "default-src 'self'" in response["Content-Security-Policy"]
    # Scripts are static files only (the chart value caption); none is inline.
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/js/charts.js" defer>']
    assert "style=" not in html and "<style" not in html


def test_the_article_links_the_next_step_of_the_learning_path(client, article):
    nxt = ArticleFactory(title="Concentrated liquidity", path_order=3)
    html = client.get(article.get_absolute_url()).content.decode()
    assert "Next in the learning path" in html and nxt.get_absolute_url() in html


# --- Drafts: invisible to the public, previewable by staff ----------------------------


def _public_pages(slug):
    return [reverse("education:article", args=[slug])]


@pytest.mark.parametrize("who", ["anonymous", "reader", "staff_without_permission"])
def test_a_draft_article_is_404_for_anyone_but_editors(client, draft, who):
    if who == "reader":
        client.force_login(UserFactory())
    elif who == "staff_without_permission":
        client.force_login(UserFactory(is_staff=True))
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_a_scheduled_article_is_404_until_its_date(client, scheduled):
    assert client.get(scheduled.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("page", ["home", "search", "glossary", "term"])
def test_drafts_appear_on_no_public_page(client, draft, scheduled, term, page):
    draft_term = GlossaryTermFactory(term="Yield", slug="yield", related_article=draft)
    term.related_article = scheduled
    term.save()
    draft_term.articles.add(draft)
    url = {
        "home": reverse("education:home"),
        "search": reverse("education:search") + "?q=secret",
        "glossary": reverse("education:glossary"),
        "term": reverse("education:term", args=["yield"]),
    }[page]
    html = client.get(url).content.decode()
    assert "Secret draft" not in html and "secret-draft" not in html
    assert "Scheduled piece" not in html and "/scheduled/" not in html


def test_staff_who_may_view_articles_can_preview_a_draft(staff_client, draft):
    response = staff_client.get(draft.get_absolute_url())
    assert response.status_code == 200
    assert "This article is a draft" in response.content.decode()
    assert '<meta name="robots" content="noindex">' in response.content.decode()


def test_an_editor_can_preview_a_draft(editor_client, draft):
    assert editor_client.get(draft.get_absolute_url()).status_code == 200


# --- Glossary -----------------------------------------------------------------------------


def test_glossary_lists_terms_a_to_z_with_letter_navigation(client, article, term):
    term.related_article = article
    term.save()
    GlossaryTermFactory(term="LP token", slug="lp-token")
    GlossaryTermFactory(term="Leverage", slug="leverage")
    GlossaryTermFactory(term="APR (annual percentage rate)", slug="apr")
    GlossaryTermFactory(term="Arbitrage", slug="arbitrage")
    html = client.get(reverse("education:glossary")).content.decode()

    assert '<a href="#letter-A">A</a>' in html and '<a href="#letter-I">I</a>' in html
    assert '<span class="letter-empty" aria-hidden="true">Z</span>' in html
    assert html.index("APR (annual percentage rate)") < html.index("Arbitrage") < html.index("Impermanent loss")
    assert html.index(">Leverage</a>") < html.index(">LP token</a>")
    assert f'href="{article.get_absolute_url()}"' in html


def test_a_term_page_shows_the_definition_explanation_and_article(client, article, term):
    term.related_article = article
    term.save()
    response = client.get(reverse("education:term", args=[term.slug]))
    html = response.content.decode()
    assert "<h1 id=\"term-title\">Impermanent loss</h1>" in html
    assert "Shortfall against holding." in html
    assert "A longer explanation with <strong>markdown</strong>." in html
    assert f'Explained in depth: <a href="{article.get_absolute_url()}">' in html
    assert "Articles that use this term" in html


def test_an_unknown_term_is_404(client):
    assert client.get(reverse("education:term", args=["nope"])).status_code == 404


# --- Search -----------------------------------------------------------------------------------


def test_search_finds_articles_and_terms(client, article, term):
    response = client.get(reverse("education:search"), {"q": "impermanent"})
    assert [a.slug for a in response.context["articles"]] == [article.slug]
    assert [t.slug for t in response.context["terms"]] == [term.slug]


def test_an_empty_search_shows_a_hint_not_everything(client, article):
    response = client.get(reverse("education:search"), {"q": "  "})
    assert response.context["articles"] == [] and "for example" in response.content.decode()


def test_a_search_with_no_result_says_so(client, article):
    html = client.get(reverse("education:search"), {"q": "zzzqqq"}).content.decode()
    assert "Nothing matches" in html


# --- Query counts -------------------------------------------------------------------------


def _make_content(n):
    for i in range(n):
        category = CategoryFactory()
        for j in range(3):
            ArticleFactory(category=category, path_order=i * 3 + j + 1)
        GlossaryTermFactory()


@pytest.mark.parametrize("url_name", ["education:home", "education:glossary"])
def test_learn_home_and_glossary_run_a_constant_number_of_queries(client, url_name, django_assert_max_num_queries):
    _make_content(2)
    with django_assert_max_num_queries(4) as small:
        client.get(reverse(url_name))
    _make_content(6)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(reverse(url_name)).status_code == 200


def test_the_article_page_runs_a_bounded_number_of_queries(client, article, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        client.get(article.get_absolute_url())


# --- The learn_link template tag ------------------------------------------------------------


def _render(source):
    return Template("{% load education_links %}" + source).render(Context({}))


def test_learn_link_renders_the_title_of_a_published_article(article):
    assert _render('{% learn_link "impermanent-loss" %}') == (
        '<a class="learn-link" href="/learn/articles/impermanent-loss/">Impermanent loss, with worked numbers</a>'
    )


def test_learn_link_takes_custom_text_and_class(article):
    assert _render('{% learn_link "impermanent-loss" "What is IL?" css_class="small" %}') == (
        '<a class="small" href="/learn/articles/impermanent-loss/">What is IL?</a>'
    )


@pytest.mark.parametrize("slug", ["secret-draft", "does-not-exist", "scheduled"])
def test_learn_link_renders_nothing_for_a_draft_or_missing_article(draft, scheduled, slug):
    assert _render(f'{{% learn_link "{slug}" %}}') == ""


def test_learn_link_escapes_the_title():
    ArticleFactory(slug="escaped", title="<b>Bold</b> & co")
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in _render('{% learn_link "escaped" %}')


def test_learn_link_queries_once_per_slug_per_render(article, django_assert_num_queries):
    with django_assert_num_queries(1):
        _render('{% learn_link "impermanent-loss" %}{% learn_link "impermanent-loss" %}')


def test_the_impermanent_loss_article_links_its_calculator_and_others_do_not(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    assert '<a href="/learn/calculators/impermanent-loss/">Try it: the impermanent loss calculator</a>' in html
    other = ArticleFactory(slug="lp-tokens", body_markdown="## Only\n\ntext")
    assert 'data-testid="article-calculator"' not in client.get(other.get_absolute_url()).content.decode()
