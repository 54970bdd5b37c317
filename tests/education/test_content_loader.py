"""The content loader (load_learning_content / education.demo.load): safe to
re-run, never overwrites an editor's change, clear errors."""

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
import reversion
from django.core.management import CommandError, call_command
from reversion.models import Version

from education import demo, services
from education.content_files import ContentError
from education.models import Article, Category, GlossaryTerm, Status
from education.services import content_load

pytestmark = pytest.mark.django_db

ARTICLE = """\
---
title: "Impermanent loss, with worked numbers"
slug: impermanent-loss
category: liquidity-provision
level: intermediate
summary: "How much worse off an LP is than a holder."
seo_description: "IL explained with numbers."
related_terms:
  - impermanent-loss
  - arbitrage
path_order: 4
disclaimer: true
---

## What it measures

Impermanent loss compares a position with holding. Arbitrage causes it.
"""

TERM = """\
---
term: Impermanent loss
slug: impermanent-loss
short_definition: The shortfall of a position against holding.
related_article: impermanent-loss
---

It reverses only if prices return.
"""

ARBITRAGE = """\
---
term: Arbitrage
slug: arbitrage
short_definition: Buying where cheap and selling where dear.
related_article: null
---

Arbitrageurs keep pool prices in line with the market.
"""

CATEGORIES = """\
- slug: liquidity-provision
  name: Liquidity provision
  description: "Providing liquidity."
  order: 2
"""


@pytest.fixture
def content(tmp_path) -> Path:
    root = tmp_path / "content"
    (root / "articles").mkdir(parents=True)
    (root / "glossary").mkdir()
    (root / "categories.yaml").write_text(CATEGORIES)
    (root / "articles" / "impermanent-loss.md").write_text(ARTICLE)
    (root / "glossary" / "impermanent-loss.md").write_text(TERM)
    (root / "glossary" / "arbitrage.md").write_text(ARBITRAGE)
    return root


def test_first_run_creates_everything_published(content, owner):
    now = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    report = content_load(root=content, user=owner, now=now)

    assert (report.created, report.updated, report.unchanged, report.skipped) == (4, 0, 0, 0)
    article = Article.objects.get(slug="impermanent-loss")
    assert (article.status, article.published_at, article.author) == (Status.PUBLISHED, now, owner)
    assert article.category.slug == "liquidity-provision"
    assert sorted(t.slug for t in article.related_terms.all()) == ["arbitrage", "impermanent-loss"]
    assert article.path_order == 4
    assert '<h2 id="what-it-measures">' in article.body_html
    assert 'href="/learn/glossary/arbitrage/"' in article.body_html
    assert GlossaryTerm.objects.get(slug="impermanent-loss").related_article == article
    assert GlossaryTerm.objects.get(slug="arbitrage").related_article is None


def test_second_run_creates_and_updates_nothing(content):
    content_load(root=content)
    article = Article.objects.get(slug="impermanent-loss")
    versions = Version.objects.count()

    report = content_load(root=content)

    assert (report.created, report.updated, report.unchanged, report.skipped) == (0, 0, 4, 0)
    article.refresh_from_db()
    assert Article.objects.get(slug="impermanent-loss").updated_at == article.updated_at
    assert Version.objects.count() == versions


def test_a_changed_file_updates_an_untouched_article(content):
    content_load(root=content)
    path = content / "articles" / "impermanent-loss.md"
    path.write_text(ARTICLE.replace("compares a position with holding", "compares a position with HODL"))

    report = content_load(root=content)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 3)
    assert "with HODL" in Article.objects.get(slug="impermanent-loss").body_html


def test_an_editors_change_survives_a_rerun_even_when_the_file_changed(content, editor):
    content_load(root=content)
    article = Article.objects.get(slug="impermanent-loss")
    with reversion.create_revision():
        article.body_markdown += "\nAn editor's paragraph.\n"
        services.article_save(article=article)
    (content / "articles" / "impermanent-loss.md").write_text(ARTICLE.replace("Arbitrage causes it.", "New."))

    report = content_load(root=content)

    assert report.skipped == 1 and report.updated == 0
    assert report.skipped_items == ["article impermanent-loss"]
    article.refresh_from_db()
    assert "An editor's paragraph." in article.body_markdown
    assert "Arbitrage causes it." in article.body_markdown


def test_an_unpublished_article_stays_unpublished(content):
    content_load(root=content)
    services.article_unpublish(article=Article.objects.get(slug="impermanent-loss"))

    content_load(root=content)

    assert Article.objects.get(slug="impermanent-loss").status == Status.DRAFT


def test_an_editors_change_to_a_term_and_a_category_survives(content):
    content_load(root=content)
    term = GlossaryTerm.objects.get(slug="arbitrage")
    term.short_definition = "Edited by a person."
    services.term_save(term=term)
    category = Category.objects.get(slug="liquidity-provision")
    category.name = "Providing liquidity"
    services.category_save(category=category)
    (content / "glossary" / "arbitrage.md").write_text(ARBITRAGE.replace("Buying", "Purchasing"))

    report = content_load(root=content)

    assert report.skipped == 2
    assert GlossaryTerm.objects.get(slug="arbitrage").short_definition == "Edited by a person."
    assert Category.objects.get(slug="liquidity-provision").name == "Providing liquidity"


def test_an_article_an_editor_created_is_never_taken_over_by_a_file(content):
    from tests.education.factories import ArticleFactory, CategoryFactory

    ArticleFactory(slug="impermanent-loss", title="Editor's own", category=CategoryFactory(slug="other"))

    report = content_load(root=content)

    assert report.skipped == 1
    assert Article.objects.get(slug="impermanent-loss").title == "Editor's own"


def test_a_new_glossary_file_gets_linked_from_articles_on_the_next_run(content):
    (content / "glossary" / "arbitrage.md").unlink()
    first = content_load(root=content)
    assert any("'related_terms': no glossary term 'arbitrage'" in w for w in first.warnings)
    (content / "glossary" / "arbitrage.md").write_text(ARBITRAGE)

    report = content_load(root=content)

    assert (report.created, report.updated) == (1, 1)
    article = Article.objects.get(slug="impermanent-loss")
    assert "arbitrage" in {t.slug for t in article.related_terms.all()}
    assert 'href="/learn/glossary/arbitrage/"' in article.body_html


def test_each_loaded_item_gets_its_own_revision(content):
    content_load(root=content)
    article = Article.objects.get(slug="impermanent-loss")
    version = Version.objects.get_for_object(article).get()
    assert [v.object_repr for v in version.revision.version_set.all()] == [article.title]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("level: intermediate", "level: expert"),
         "articles/impermanent-loss.md: 'level': must be one of beginner, intermediate, advanced"),
        (lambda t: t.replace('title: "Impermanent loss, with worked numbers"\n', ""),
         "articles/impermanent-loss.md: 'title': is required"),
        (lambda t: t.replace("slug: impermanent-loss", "slug: something-else"),
         "articles/impermanent-loss.md: 'slug': 'something-else' does not match the file name"),
        (lambda t: t.replace("category: liquidity-provision", "category: nowhere"),
         "articles/impermanent-loss.md: 'category': no category 'nowhere'"),
        (lambda t: t.replace("path_order: 4", "path_order: fourth"),
         "articles/impermanent-loss.md: 'path_order': must be a whole number"),
        (lambda t: t.replace("  - arbitrage", "  - Not A Slug"),
         "articles/impermanent-loss.md: 'related_terms': must be a list of glossary slugs"),
        (lambda t: t.replace("disclaimer: true", "disclaimer: maybe"),
         "articles/impermanent-loss.md: 'disclaimer': must be true or false"),
        (lambda t: t.replace("---\n", "", 1),
         "articles/impermanent-loss.md: no front matter"),
        (lambda t: t.replace("level: intermediate", "level: [intermediate"),
         "articles/impermanent-loss.md: front matter is not valid YAML"),
    ],
)
def test_front_matter_errors_name_the_file_and_the_key_and_write_nothing(content, edit, message):
    path = content / "articles" / "impermanent-loss.md"
    path.write_text(edit(ARTICLE))

    with pytest.raises(ContentError) as exc:
        content_load(root=content)

    assert any(message in error for error in exc.value.errors), exc.value.errors
    assert not Article.objects.exists() and not GlossaryTerm.objects.exists()


def test_a_glossary_error_names_the_file_and_the_key(content):
    broken = ARBITRAGE.replace("short_definition: Buying", "short_definition:\n  - Buying")
    (content / "glossary" / "arbitrage.md").write_text(broken)
    with pytest.raises(ContentError) as exc:
        content_load(root=content)
    assert exc.value.errors == ["content/glossary/arbitrage.md: 'short_definition': must be text (got list)"]


def test_unknown_keys_are_reported_not_fatal(content):
    path = content / "articles" / "impermanent-loss.md"
    path.write_text(ARTICLE.replace("disclaimer: true", "disclaimer: true\nhero_image: x.png"))
    report = content_load(root=content)
    assert report.created == 4
    assert "content/articles/impermanent-loss.md: 'hero_image': unknown key, ignored" in report.warnings


def test_a_front_matter_date_is_used_as_the_publish_date(content):
    path = content / "articles" / "impermanent-loss.md"
    path.write_text(ARTICLE.replace("disclaimer: true", "disclaimer: true\npublished_at: 2025-06-01"))
    content_load(root=content)
    assert Article.objects.get().published_at == dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def test_the_command_reports_counts_and_fails_with_the_file_and_key(content):
    out = StringIO()
    call_command("load_learning_content", "--path", str(content), stdout=out, stderr=StringIO())
    assert "4 created, 0 updated, 0 unchanged, 0 skipped" in out.getvalue()

    (content / "articles" / "impermanent-loss.md").write_text(ARTICLE.replace("level: intermediate", "level: 3"))
    with pytest.raises(CommandError, match=r"impermanent-loss.md: 'level'"):
        call_command("load_learning_content", "--path", str(content), stdout=StringIO())


def test_the_real_content_folder_loads_without_errors_and_reruns_cleanly(owner):
    """Guards the writers' files: every article and term is valid and every
    cross-reference resolves."""
    report = content_load(user=owner)
    assert report.created > 0 and report.skipped == 0
    assert report.warnings == []
    assert Article.objects.filter(status=Status.PUBLISHED).count() == Article.objects.count() >= 16
    assert GlossaryTerm.objects.count() >= 60
    il = Article.objects.get(slug="impermanent-loss")
    assert il.toc and il.reading_time >= 5

    again = content_load(user=owner)
    assert (again.created, again.updated, again.skipped) == (0, 0, 0)


def test_the_demo_loader_uses_the_same_service(owner):
    summary = demo.load(user=owner)
    assert "created" in summary
    assert "0 created" in demo.load(user=owner)


def test_an_article_deleted_in_the_admin_comes_back_linked_on_the_next_run(content):
    content_load(root=content)
    services.article_delete(article=Article.objects.get(slug="impermanent-loss"))
    assert GlossaryTerm.objects.get(slug="impermanent-loss").related_article is None

    report = content_load(root=content)

    assert (report.created, report.skipped) == (1, 0)
    article = Article.objects.get(slug="impermanent-loss")
    assert GlossaryTerm.objects.get(slug="impermanent-loss").related_article == article
