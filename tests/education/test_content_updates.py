"""A changed content file meets an item an editor changed: the loader keeps the
editor's text and offers the file's version for review (apply or dismiss in
the admin); untouched items still update in place. Plus the sources and
checked-on date every article carries."""

import datetime as dt
from io import StringIO

import pytest
import reversion
from django.core.management import call_command
from django.urls import reverse
from reversion.models import Version

from education import services
from education.content_files import ContentError
from education.models import Article, ContentUpdate, GlossaryTerm, Status
from education.services import ContentUpdateError, content_load
from tests.education.test_content_loader import ARBITRAGE, ARTICLE, CATEGORIES, TERM

pytestmark = pytest.mark.django_db

SOURCED = ARTICLE.replace(
    "disclaimer: true",
    """disclaimer: true
sources:
  - title: "HMRC Cryptoassets Manual: CRYPTO22500"
    url: https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22500
checked_on: 2026-12-07""",
)


@pytest.fixture
def content(tmp_path):
    root = tmp_path / "content"
    (root / "articles").mkdir(parents=True)
    (root / "glossary").mkdir()
    (root / "categories.yaml").write_text(CATEGORIES)
    (root / "articles" / "impermanent-loss.md").write_text(SOURCED)
    (root / "glossary" / "impermanent-loss.md").write_text(TERM)
    (root / "glossary" / "arbitrage.md").write_text(ARBITRAGE)
    return root


def edit_article(text: str = "\nAn editor's paragraph.\n") -> Article:
    article = Article.objects.get(slug="impermanent-loss")
    with reversion.create_revision():
        article.body_markdown += text
        services.article_save(article=article)
    return article


def change_file(content, old: str, new: str) -> None:
    path = content / "articles" / "impermanent-loss.md"
    path.write_text(path.read_text().replace(old, new))


# --- sources and the checked-on date ----------------------------------------------------------


def test_sources_and_the_checked_on_date_are_loaded(content):
    content_load(root=content)
    article = Article.objects.get(slug="impermanent-loss")
    assert article.sources == [
        {
            "title": "HMRC Cryptoassets Manual: CRYPTO22500",
            "url": "https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22500",
        }
    ]
    assert article.checked_on == dt.date(2026, 12, 7)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("url: https://www.gov.uk", "url: javascript://www.gov.uk"),
            "'sources': item 1: the url must start with http:// or https://",
        ),
        (
            lambda t: t.replace('  - title: "HMRC Cryptoassets Manual: CRYPTO22500"\n', "  - "),
            "'sources': item 1 must have exactly a title and a url",
        ),
        (
            lambda t: t.replace("checked_on: 2026-12-07", "checked_on: last week"),
            "'checked_on': must be a date like 2026-12-07",
        ),
        (
            lambda t: t.replace("sources:", "old_sources:"),
            "'checked_on': a checked-on date needs the sources it was checked against",
        ),
    ],
)
def test_bad_sources_name_the_file_and_key_and_load_nothing(content, edit, message):
    path = content / "articles" / "impermanent-loss.md"
    path.write_text(edit(path.read_text()))
    with pytest.raises(ContentError) as exc:
        content_load(root=content)
    assert any(message in error for error in exc.value.errors), exc.value.errors
    assert not Article.objects.exists()


def test_the_article_page_and_api_show_the_sources_and_the_date(client, content):
    content_load(root=content)
    html = client.get("/learn/articles/impermanent-loss/").content.decode()
    assert (
        '<a href="https://www.gov.uk/hmrc-internal-manuals/cryptoassets-manual/crypto22500" '
        'rel="noopener noreferrer">HMRC Cryptoassets Manual: CRYPTO22500</a>'
    ) in html
    assert 'Facts checked <time datetime="2026-12-07">7 Dec 2026</time>' in html
    assert "checked against these sources on" in html
    body = client.get("/api/v1/learn/articles/impermanent-loss/").json()
    assert body["checked_on"] == "2026-12-07"
    assert body["sources"][0]["url"].endswith("/crypto22500")


def test_an_article_without_sources_shows_no_sources_section(client, tmp_path, content):
    (content / "articles" / "impermanent-loss.md").write_text(ARTICLE)
    content_load(root=content)
    html = client.get("/learn/articles/impermanent-loss/").content.decode()
    assert "sources-heading" not in html and "Facts checked" not in html


def test_an_article_loaded_before_sources_existed_still_updates_in_place(content):
    """Articles loaded by the previous loader have no sources: their stored
    fingerprint must still match, or the first load with sources would treat
    every one of them as an editor's."""
    (content / "articles" / "impermanent-loss.md").write_text(ARTICLE)
    content_load(root=content)
    (content / "articles" / "impermanent-loss.md").write_text(SOURCED)

    report = content_load(root=content)

    assert (report.updated, report.skipped, report.offered) == (1, 0, 0)
    assert Article.objects.get().checked_on == dt.date(2026, 12, 7)


# --- the two paths: untouched updates in place, edited waits for review --------------------------


def test_an_untouched_article_updates_in_place_and_nothing_waits(content):
    content_load(root=content)
    change_file(content, "Arbitrage causes it.", "Arbitrage after every price move causes it.")

    report = content_load(root=content)

    assert (report.updated, report.skipped, report.offered) == (1, 0, 0)
    assert "after every price move" in Article.objects.get().body_markdown
    assert not ContentUpdate.objects.exists()


def test_an_edited_article_keeps_its_text_and_the_files_version_waits_for_review(content):
    content_load(root=content)
    edit_article()
    change_file(content, "Arbitrage causes it.", "Arbitrage after every price move causes it.")

    report = content_load(root=content)

    assert (report.updated, report.skipped, report.offered) == (0, 1, 1)
    assert report.offered_items == ["article impermanent-loss"]
    article = Article.objects.get()
    assert "An editor's paragraph." in article.body_markdown
    assert "after every price move" not in article.body_markdown
    update = ContentUpdate.objects.get()
    assert (update.kind, update.slug, update.state) == ("article", "impermanent-loss", "pending")
    assert "after every price move" in update.values["body_markdown"]
    assert update.values["category"] == "liquidity-provision"
    assert update.values["checked_on"] == "2026-12-07"


def test_a_rerun_offers_the_same_file_version_once(content):
    content_load(root=content)
    edit_article()
    change_file(content, "Arbitrage causes it.", "New.")
    content_load(root=content)

    again = content_load(root=content)

    assert again.offered == 0
    assert ContentUpdate.objects.count() == 1


def test_an_edited_article_whose_file_did_not_change_offers_nothing(content):
    content_load(root=content)
    edit_article()
    assert content_load(root=content).offered == 0
    assert not ContentUpdate.objects.exists()


def test_a_newer_file_version_replaces_an_undecided_older_one(content):
    content_load(root=content)
    edit_article()
    change_file(content, "Arbitrage causes it.", "Version two.")
    content_load(root=content)
    change_file(content, "Version two.", "Version three.")

    content_load(root=content)

    update = ContentUpdate.objects.get()
    assert "Version three." in update.values["body_markdown"]


def test_applying_takes_the_files_text_keeps_the_editors_in_history_and_hands_it_back_to_the_files(content, editor):
    content_load(root=content)
    edit_article()
    change_file(content, "Arbitrage causes it.", "Version two.")
    content_load(root=content)
    update = ContentUpdate.objects.get()

    services.content_update_apply(update=update, user=editor)

    article = Article.objects.get()
    assert "Version two." in article.body_markdown and "An editor's paragraph." not in article.body_markdown
    assert article.status == Status.PUBLISHED
    update.refresh_from_db()
    assert (update.state, update.decided_by) == ("applied", editor)
    bodies = [v.field_dict["body_markdown"] for v in Version.objects.get_for_object(article)]
    assert any("An editor's paragraph." in body for body in bodies)  # one revert away
    # The files own it again: the next file change updates it in place.
    change_file(content, "Version two.", "Version three.")
    report = content_load(root=content)
    assert (report.updated, report.offered) == (1, 0)
    assert "Version three." in Article.objects.get().body_markdown


def test_applying_to_an_unpublished_article_leaves_it_a_draft(content, editor):
    content_load(root=content)
    services.article_unpublish(article=Article.objects.get())
    change_file(content, "Arbitrage causes it.", "Version two.")
    content_load(root=content)

    services.content_update_apply(update=ContentUpdate.objects.get(), user=editor)

    article = Article.objects.get()
    assert article.status == Status.DRAFT and "Version two." in article.body_markdown


def test_a_dismissed_version_is_not_offered_again_but_a_later_one_is(content, editor):
    content_load(root=content)
    edit_article()
    change_file(content, "Arbitrage causes it.", "Version two.")
    content_load(root=content)
    services.content_update_dismiss(update=ContentUpdate.objects.get(), user=editor)

    assert content_load(root=content).offered == 0
    assert "An editor's paragraph." in Article.objects.get().body_markdown

    change_file(content, "Version two.", "Version three.")
    assert content_load(root=content).offered == 1
    assert ContentUpdate.objects.filter(state="pending").count() == 1


def test_a_decided_version_cannot_be_decided_again(content, editor):
    content_load(root=content)
    edit_article()
    change_file(content, "Arbitrage causes it.", "Version two.")
    content_load(root=content)
    update = ContentUpdate.objects.get()
    services.content_update_dismiss(update=update, user=editor)
    with pytest.raises(ContentUpdateError, match="already dismissed"):
        services.content_update_apply(update=update, user=editor)


def test_an_editors_own_article_with_a_files_slug_gets_the_file_as_a_version_to_review(content, editor):
    from tests.education.factories import ArticleFactory, CategoryFactory

    ArticleFactory(slug="impermanent-loss", title="Editor's own", category=CategoryFactory(slug="other"))

    report = content_load(root=content)

    assert (report.skipped, report.offered) == (1, 1)
    assert Article.objects.get().title == "Editor's own"
    services.content_update_apply(update=ContentUpdate.objects.get(), user=editor)
    assert Article.objects.get().title == "Impermanent loss, with worked numbers"


def test_an_edited_glossary_term_gets_the_files_new_definition_for_review(content, editor):
    content_load(root=content)
    term = GlossaryTerm.objects.get(slug="arbitrage")
    term.short_definition = "Edited by a person."
    services.term_save(term=term)
    (content / "glossary" / "arbitrage.md").write_text(ARBITRAGE.replace("Buying", "Purchasing"))

    report = content_load(root=content)

    assert report.offered_items == ["term arbitrage"]
    assert GlossaryTerm.objects.get(slug="arbitrage").short_definition == "Edited by a person."
    services.content_update_apply(update=ContentUpdate.objects.get(), user=editor)
    assert GlossaryTerm.objects.get(slug="arbitrage").short_definition.startswith("Purchasing")


def test_new_articles_can_arrive_as_drafts_and_stay_drafts_on_a_rerun(content):
    report = content_load(root=content, new_as_drafts=True)

    assert report.created == 4
    article = Article.objects.get()
    assert article.status == Status.DRAFT and article.published_at is None
    change_file(content, "Arbitrage causes it.", "Version two.")
    content_load(root=content, new_as_drafts=True)
    article.refresh_from_db()
    assert article.status == Status.DRAFT and "Version two." in article.body_markdown


def test_the_command_reports_versions_waiting_for_review_and_creates_drafts(content):
    call_command("load_learning_content", "--path", str(content), "--drafts", stdout=StringIO())
    assert Article.objects.get().status == Status.DRAFT
    edit_article()
    change_file(content, "Arbitrage causes it.", "Version two.")
    out = StringIO()
    call_command("load_learning_content", "--path", str(content), stdout=out)
    assert "file's new version waits for review in the admin: article impermanent-loss" in out.getvalue()
    assert "1 skipped (changed by an editor), 1 new versions for review" in out.getvalue()


# --- the admin: review, apply, dismiss -----------------------------------------------------------


@pytest.fixture
def waiting(content):
    content_load(root=content)
    edit_article()
    change_file(content, "Arbitrage causes it.", "Arbitrage after every price move causes it.")
    content_load(root=content)
    return ContentUpdate.objects.get()


def test_the_article_form_says_a_file_version_waits_and_links_it(editor_client, waiting):
    article = Article.objects.get()
    html = editor_client.get(reverse("admin:education_article_change", args=[article.pk])).content.decode()
    assert "has a newer version than the text here" in html
    assert reverse("admin:education_contentupdate_change", args=[waiting.pk]) in html


def test_an_editor_sees_the_difference_and_applies_it(editor_client, editor, waiting):
    url = reverse("admin:education_contentupdate_change", args=[waiting.pk])
    html = editor_client.get(url).content.decode()
    assert '<span class="diff-add">+ Impermanent loss compares a position with holding. Arbitrage after every ' in html
    assert '<span class="diff-del">- An editor&#x27;s paragraph.</span>' in html

    response = editor_client.post(reverse("admin:education_contentupdate_apply", args=[waiting.pk]))

    assert response.status_code == 302
    assert "after every price move" in Article.objects.get().body_markdown
    waiting.refresh_from_db()
    assert (waiting.state, waiting.decided_by) == ("applied", editor)
    assert "Apply the file" not in editor_client.get(url).content.decode()


def test_an_editor_dismisses_it(editor_client, waiting):
    editor_client.post(reverse("admin:education_contentupdate_dismiss", args=[waiting.pk]))
    waiting.refresh_from_db()
    assert waiting.state == "dismissed"
    assert "An editor's paragraph." in Article.objects.get().body_markdown


def test_apply_and_dismiss_need_a_post_and_the_change_permission(client, editor_client, waiting):
    apply_url = reverse("admin:education_contentupdate_apply", args=[waiting.pk])
    assert editor_client.get(apply_url).status_code == 405
    from tests.factories import UserFactory

    client.force_login(UserFactory(email="staff@example.com", is_staff=True))  # staff, no education rights
    assert client.post(apply_url).status_code == 403
    waiting.refresh_from_db()
    assert waiting.state == "pending"


def test_nobody_adds_or_deletes_content_updates_in_the_admin(editor_client, waiting):
    assert editor_client.get(reverse("admin:education_contentupdate_add")).status_code == 403
    assert editor_client.get(reverse("admin:education_contentupdate_delete", args=[waiting.pk])).status_code == 403
