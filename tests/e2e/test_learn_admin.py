"""An editor in a real browser: edit an article, preview it (a plain form
post to another URL opening a new tab: no script, so the CSP holds), save,
and compare two versions in the history."""

import os
import re

import pytest
import reversion

from education.models import Article
from education.services import editors_group_ensure
from tests.e2e.conftest import SCREENSHOT_DIR
from tests.education.factories import ArticleFactory, GlossaryTermFactory
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_editor_previews_saves_and_compares_versions(page, live_server, shot, password):
    editor = UserFactory(email="editor@example.com", is_staff=True, password=password)
    # Transactional tests flush the database, which removes the group the
    # data migration made; restore it the way the app does.
    editor.groups.add(editors_group_ensure())
    GlossaryTermFactory(term="Impermanent loss", slug="impermanent-loss")
    with reversion.create_revision():
        article = ArticleFactory(title="Impermanent loss basics", slug="il-basics",
                                 body_markdown="## Start\n\nThe first version.\n")

    # Django's admin pages declare no icon, so Chromium asks for /favicon.ico
    # (404); every other console error counts.
    errors = []
    page.on("console", lambda m: errors.append((m.text, m.location.get("url")))
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico") else None)
    page.on("pageerror", lambda exc: errors.append((str(exc), None)))
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Email").fill(editor.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/$"))

    page.goto(f"/admin/education/article/{article.pk}/change/")
    body = "\n\n".join(f"## Part {n}\n\nImpermanent loss, part {n}." for n in range(1, 5))
    page.get_by_label("Body (markdown)").fill(body + "\n\n<script>alert(1)</script>")
    with page.context.expect_page() as new_tab:
        page.get_by_role("button", name="Preview").click()
    preview = new_tab.value
    preview.wait_for_load_state()
    assert preview.locator("h1").inner_text() == "Impermanent loss basics"
    assert preview.locator(".preview-body h2#part-1").inner_text() == "Part 1"
    assert preview.locator(".preview-body a.glossary-link").count() == 1
    assert "On this page" in preview.inner_text("#content-main")
    assert preview.locator(".preview-body script").count() == 0
    preview.screenshot(path=os.path.join(SCREENSHOT_DIR, "admin-preview.png"), full_page=True)
    preview.close()
    assert Article.objects.get(pk=article.pk).body_markdown.startswith("## Start")

    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/education/article/$"))
    assert Article.objects.get(pk=article.pk).body_markdown.startswith("## Part 1")

    page.goto(f"/admin/education/article/{article.pk}/history/")
    page.get_by_role("button", name="Compare selected versions").click()
    page.wait_for_url(re.compile(r"/history/compare/\?"))
    assert page.locator(".diff-add", has_text="Part 1").first.is_visible()
    shot("admin-compare")
    assert errors == []
