"""The admin for editors: the permission boundary of the Editors group,
preview, publish/unpublish, history with compare and revert."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import reverse
from reversion.models import Version

from education.models import Article, Status
from tests.education.factories import ArticleFactory, CategoryFactory, GlossaryTermFactory

pytestmark = pytest.mark.django_db

EDUCATION_MODELS = ["category", "article", "glossaryterm"]


EDITOR_PERMS = sorted(
    [("education", f"{action}_{model}") for model in EDUCATION_MODELS for action in ("add", "change", "delete", "view")]
    # Reviewing a content file's newer version: view it, apply or dismiss it (no add, no delete).
    + [("education", "change_contentupdate"), ("education", "view_contentupdate")]
)


def test_the_migration_gives_the_editors_group_exactly_the_education_model_permissions():
    group = Group.objects.get(name="Editors")
    assert sorted(group.permissions.values_list("content_type__app_label", "codename")) == EDITOR_PERMS


def test_editors_group_ensure_restores_the_group_and_resets_extra_permissions():
    from django.contrib.auth.models import Permission

    from education.services import editors_group_ensure

    Group.objects.filter(name="Editors").delete()
    group = editors_group_ensure()
    group.permissions.add(Permission.objects.get(codename="change_user"))
    group = editors_group_ensure()
    assert sorted(group.permissions.values_list("content_type__app_label", "codename")) == EDITOR_PERMS


# --- Permission boundary ----------------------------------------------------------------


def _models_outside_education():
    return [model for model in admin.site._registry if model._meta.app_label != "education"]


def test_there_are_models_outside_education_to_test_against():
    labels = {m._meta.label for m in _models_outside_education()}
    assert {"accounts.User", "auth.Group", "django_celery_beat.PeriodicTask"} <= labels


@pytest.mark.parametrize("model", _models_outside_education(), ids=lambda m: m._meta.label)
def test_an_editor_is_refused_every_admin_page_outside_education(editor_client, editor, model):
    opts = model._meta
    prefix = f"admin:{opts.app_label}_{opts.model_name}"
    assert editor_client.get(reverse(f"{prefix}_changelist")).status_code == 403
    assert editor_client.get(reverse(f"{prefix}_add")).status_code == 403
    obj = model._default_manager.first()
    if obj is not None:
        assert editor_client.get(reverse(f"{prefix}_change", args=[obj.pk])).status_code == 403
        assert editor_client.post(reverse(f"{prefix}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
        assert model._default_manager.filter(pk=obj.pk).exists()


def test_an_editor_cannot_open_their_own_user_or_make_themselves_superuser(editor_client, editor):
    url = reverse("admin:accounts_user_change", args=[editor.pk])
    assert editor_client.get(url).status_code == 403
    assert editor_client.post(url, {"email": editor.email, "is_superuser": "on"}).status_code == 403
    editor.refresh_from_db()
    assert not editor.is_superuser


def test_the_admin_index_shows_an_editor_only_education(editor_client):
    response = editor_client.get(reverse("admin:index"))
    apps = [app["app_label"] for app in response.context["app_list"]]
    assert apps == ["education"]


@pytest.mark.parametrize("model", EDUCATION_MODELS)
def test_an_editor_can_open_every_education_admin_page(editor_client, model):
    objects = {"category": CategoryFactory, "article": ArticleFactory, "glossaryterm": GlossaryTermFactory}
    obj = objects[model]()
    for url in [
        reverse(f"admin:education_{model}_changelist"),
        reverse(f"admin:education_{model}_add"),
        reverse(f"admin:education_{model}_change", args=[obj.pk]),
        reverse(f"admin:education_{model}_history", args=[obj.pk]),
    ]:
        assert editor_client.get(url).status_code == 200, url


def test_a_staff_user_without_the_group_cannot_edit_articles(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True))
    assert client.get(reverse("admin:education_article_changelist")).status_code == 403
    assert client.post(reverse("admin:education_article_preview"), {"body_markdown": "x"}).status_code == 403


# --- Editing ------------------------------------------------------------------------------


def _form_data(article=None, **overrides):
    category = article.category if article else CategoryFactory()
    data = {
        "title": "Reading APY honestly", "slug": "reading-apy-honestly", "category": category.pk,
        "level": "beginner", "summary": "APY is a projection.",
        "body_markdown": "## Why\n\nBecause <script>x</script>.",
        "published_at_0": "", "published_at_1": "", "path_order": "", "seo_description": "",
    }
    if article:
        data.update(title=article.title, slug=article.slug, summary=article.summary,
                    body_markdown=article.body_markdown, level=article.level)
    data.update(overrides)
    return data


def test_an_editor_adds_a_draft_and_it_is_rendered_and_sanitised(editor_client, editor):
    response = editor_client.post(reverse("admin:education_article_add"), _form_data())
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    article = Article.objects.get(slug="reading-apy-honestly")
    assert article.status == Status.DRAFT and article.author == editor
    assert article.body_html == '<h2 id="why">Why</h2>\n<p>Because .</p>'
    assert Version.objects.get_for_object(article).count() == 1


def test_save_and_publish_publishes_through_the_service(editor_client):
    response = editor_client.post(reverse("admin:education_article_add"), {**_form_data(), "_publish": "1"})
    assert response.status_code == 302
    article = Article.objects.get(slug="reading-apy-honestly")
    assert article.status == Status.PUBLISHED and article.published_at is not None


def test_the_change_form_offers_preview_and_publish_buttons_without_script(editor_client):
    article = ArticleFactory(draft=True)
    html = editor_client.get(reverse("admin:education_article_change", args=[article.pk])).content.decode()
    preview = reverse("admin:education_article_preview")
    assert f'formaction="{preview}" formtarget="_blank"' in html
    assert 'name="_publish"' in html
    assert "onclick" not in html


def test_preview_renders_the_form_text_through_the_sanitiser_without_saving(editor_client):
    article = ArticleFactory(body_markdown="## Saved\n\nold")
    response = editor_client.post(reverse("admin:education_article_preview"), {
        "title": "New title", "summary": "New summary",
        "body_markdown": "## One\n\n## Two\n\n## Three\n\n## Four\n\n"
                         "<img src=x onerror=alert(1)> [x](javascript:alert(1))",
    })
    html = response.content.decode()
    assert response.status_code == 200
    assert "New title" in html and '<h2 id="one">One</h2>' in html
    assert "On this page" in html
    assert "onerror" not in html and "javascript:alert" not in html
    article.refresh_from_db()
    assert article.body_markdown == "## Saved\n\nold"


def test_preview_is_post_only(editor_client):
    assert editor_client.get(reverse("admin:education_article_preview")).status_code == 405


def test_glossary_term_preview_renders_the_explanation(editor_client):
    response = editor_client.post(reverse("admin:education_glossaryterm_preview"),
                                  {"term": "APR", "explanation_markdown": "**Simple** rate"})
    assert "<strong>Simple</strong> rate" in response.content.decode()


@pytest.mark.parametrize(("action", "start", "end"), [
    ("publish_selected", Status.DRAFT, Status.PUBLISHED),
    ("unpublish_selected", Status.PUBLISHED, Status.DRAFT),
])
def test_publish_and_unpublish_actions(editor_client, action, start, end):
    articles = [ArticleFactory(draft=start == Status.DRAFT) for _ in range(2)]
    response = editor_client.post(reverse("admin:education_article_changelist"), {
        "action": action, "_selected_action": [a.pk for a in articles],
    })
    assert response.status_code == 302
    assert {a.status for a in Article.objects.all()} == {end}
    assert all(a.published_at for a in Article.objects.all())


def test_changelist_search_and_filters(editor_client):
    ArticleFactory(title="Impermanent loss", level="intermediate")
    ArticleFactory(title="Staking", draft=True)
    url = reverse("admin:education_article_changelist")
    assert editor_client.get(url, {"q": "impermanent"}).context["cl"].result_count == 1
    assert editor_client.get(url, {"status__exact": "draft"}).context["cl"].result_count == 1
    assert editor_client.get(url, {"level__exact": "intermediate"}).context["cl"].result_count == 1


def test_editing_a_term_relinks_articles(editor_client):
    article = ArticleFactory(body_markdown="Slippage happens.")
    response = editor_client.post(reverse("admin:education_glossaryterm_add"), {
        "term": "Slippage", "slug": "slippage", "short_definition": "Price moves.",
        "explanation_markdown": "", "related_article": "",
    })
    assert response.status_code == 302
    article.refresh_from_db()
    assert 'href="/learn/glossary/slippage/"' in article.body_html


# --- History: compare and revert ---------------------------------------------------------------


@pytest.fixture
def article_with_history(editor_client):
    editor_client.post(reverse("admin:education_article_add"), _form_data(body_markdown="First line\nSecond line\n"))
    article = Article.objects.get(slug="reading-apy-honestly")
    editor_client.post(reverse("admin:education_article_change", args=[article.pk]),
                       _form_data(article, body_markdown="First line\nSecond line, edited\n"))
    return article


def test_history_lists_versions_with_a_compare_form(editor_client, article_with_history):
    url = reverse("admin:education_article_history", args=[article_with_history.pk])
    html = editor_client.get(url).content.decode()
    assert html.count('name="old"') == 2 and "Compare selected versions" in html


def test_compare_shows_a_line_diff_of_the_markdown(editor_client, article_with_history):
    old, new = sorted(Version.objects.get_for_object(article_with_history), key=lambda v: v.pk)
    response = editor_client.get(
        reverse("admin:education_article_compare", args=[article_with_history.pk]), {"old": old.pk, "new": new.pk})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<span class="diff-del">- Second line</span>' in html
    assert '<span class="diff-add">+ Second line, edited</span>' in html
    assert "<h2>Body</h2>" in html and "<h2>Title</h2>" not in html


def test_compare_escapes_the_markdown(editor_client):
    article = ArticleFactory(body_markdown="safe")
    import reversion

    from education import services

    for body in ("<b>one</b>", "<script>two</script>"):
        with reversion.create_revision():
            article.body_markdown = body
            services.article_save(article=article)
    old, new = sorted(Version.objects.get_for_object(article), key=lambda v: v.pk)
    html = editor_client.get(reverse("admin:education_article_compare", args=[article.pk]),
                             {"old": old.pk, "new": new.pk}).content.decode()
    assert "&lt;script&gt;two&lt;/script&gt;" in html and "<script>two" not in html


def test_reverting_restores_the_old_text_and_re_renders(editor_client, article_with_history):
    first = min(Version.objects.get_for_object(article_with_history), key=lambda v: v.pk)
    url = reverse("admin:education_article_revision", args=[article_with_history.pk, first.pk])
    form_page = editor_client.get(url)
    assert form_page.status_code == 200
    textarea = form_page.context["adminform"].form["body_markdown"].value()
    assert textarea.splitlines() == ["First line", "Second line"]
    response = editor_client.post(url, _form_data(article_with_history, body_markdown="First line\nSecond line\n"))
    assert response.status_code == 302
    article_with_history.refresh_from_db()
    assert article_with_history.body_markdown == "First line\nSecond line"
    assert article_with_history.body_html == "<p>First line\nSecond line</p>"


def test_an_editor_deletes_an_article_through_the_service(editor_client):
    article = ArticleFactory()
    term = GlossaryTermFactory(related_article=article)
    response = editor_client.post(reverse("admin:education_article_delete", args=[article.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Article.objects.filter(pk=article.pk).exists()
    term.refresh_from_db()
    assert term.related_article is None
