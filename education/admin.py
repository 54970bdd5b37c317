"""Admin for editors: search, filters, slug prefill, a rendered preview
(a plain form post, no script: it works under our CSP), publish/unpublish
through the services, and django-reversion history with revert plus a
side-by-side text diff of any two versions (difflib)."""

from __future__ import annotations

import difflib

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST
from reversion.admin import VersionAdmin
from reversion.models import Version

from education import markdown as md
from education import services
from education.content_files import sources_problems
from education.models import Article, Category, ContentUpdate, GlossaryTerm, Status
from education.selectors import glossary_link_entries

# Fields shown in the version diff, in this order.
ARTICLE_DIFF_FIELDS = [
    ("title", "Title"), ("summary", "Summary"), ("seo_description", "SEO description"),
    ("level", "Level"), ("status", "Status"), ("path_order", "Learning path position"),
    ("sources", "Sources"), ("checked_on", "Checked on"), ("body_markdown", "Body"),
]
TERM_DIFF_FIELDS = [
    ("term", "Term"), ("short_definition", "Short definition"), ("explanation_markdown", "Explanation"),
]


def diff_lines(old: str, new: str) -> list[tuple[str, str]]:
    """A unified diff as (kind, line) pairs; kind is add/del/hunk/same."""
    out = []
    lines = difflib.unified_diff(
        (old or "").splitlines(), (new or "").splitlines(), lineterm="", n=2,
    )
    for line in list(lines)[2:]:  # skip the ---/+++ header
        if line.startswith("@@"):
            out.append(("hunk", line))
        elif line.startswith("+"):
            out.append(("add", line[1:]))
        elif line.startswith("-"):
            out.append(("del", line[1:]))
        else:
            out.append(("same", line[1:]))
    return out


class EducationAdminMixin:
    """Preview and compare views shared by the article and glossary admins."""

    preview_field = ""
    preview_with_toc = False
    diff_fields: list[tuple[str, str]] = []

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path("preview/", self.admin_site.admin_view(self.preview_view), name=f"{prefix}_preview"),
            path("<path:object_id>/history/compare/", self.admin_site.admin_view(self.compare_view),
                 name=f"{prefix}_compare"),
        ] + super().get_urls()

    # Rendered preview of the text in the form, never saved.
    def preview_view(self, request):
        return require_POST(self._preview)(request)

    def _preview(self, request):
        if not (self.has_add_permission(request) or self.has_change_permission(request)):
            raise PermissionDenied
        source = request.POST.get(self.preview_field, "")
        entries = glossary_link_entries() if self.preview_with_toc else None
        rendered = md.render(source, glossary=entries, with_toc=self.preview_with_toc)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Preview: {request.POST.get('title') or request.POST.get('term') or 'untitled'}",
            "heading": request.POST.get("title") or request.POST.get("term") or "",
            "lead": request.POST.get("summary") or request.POST.get("short_definition") or "",
            "rendered": rendered,
        }
        return TemplateResponse(request, "admin/education/preview.html", context)

    # History: reversion's list plus a "compare two versions" form.
    object_history_template = "admin/education/object_history.html"

    def history_view(self, request, object_id, extra_context=None):
        versions = Version.objects.get_for_object_reference(self.model, object_id).select_related(
            "revision", "revision__user",
        ).order_by("-revision__date_created", "-pk")
        extra = {"versions": list(versions), "compare_url": reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_compare", args=[object_id])}
        extra.update(extra_context or {})
        return super().history_view(request, object_id, extra)

    def compare_view(self, request, object_id):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        obj = get_object_or_404(self.model, pk=object_id)
        versions = Version.objects.get_for_object(obj).select_related("revision", "revision__user")
        try:
            old = versions.get(pk=int(request.GET.get("old", "")))
            new = versions.get(pk=int(request.GET.get("new", "")))
        except (ValueError, Version.DoesNotExist):
            self.message_user(request, "Choose two versions to compare.", messages.WARNING)
            return self.history_view(request, object_id)
        if old.revision.date_created > new.revision.date_created:
            old, new = new, old
        old_fields, new_fields = old.field_dict, new.field_dict
        changes = []
        for name, label in self.diff_fields:
            a, b = str(old_fields.get(name) or ""), str(new_fields.get(name) or "")
            if a != b:
                changes.append({"label": label, "lines": diff_lines(a, b)})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": obj,
            "title": f"Compare versions of “{obj}”",
            "old": old,
            "new": new,
            "changes": changes,
            "history_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_history", args=[obj.pk]),
        }
        return TemplateResponse(request, "admin/education/compare.html", context)


@admin.register(Category)
class CategoryAdmin(VersionAdmin):
    list_display = ("name", "slug", "order")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    ordering = ("order", "name")

    def save_model(self, request, obj, form, change):
        services.category_save(category=obj)


def sources_as_lines(sources: list[dict]) -> str:
    return "\n".join(f"{s['title']} | {s['url']}" for s in sources or [])


def sources_from_lines(text: str) -> list[dict]:
    """'Title | https://…' per line (blank lines ignored) to the stored list."""
    out = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        title, bar, url = line.rpartition("|")
        if not bar:
            raise forms.ValidationError(f"Line {number}: write the title, then ' | ', then the address.")
        out.append({"title": title.strip(), "url": url.strip()})
    problems = sources_problems(out)
    if problems:
        raise forms.ValidationError("; ".join(problems))
    return out


class SourcesField(forms.CharField):
    """The article's sources as editable lines instead of raw JSON."""

    widget = forms.Textarea(attrs={"rows": 5, "cols": 100})

    def prepare_value(self, value):
        return sources_as_lines(value) if isinstance(value, list) else value

    def to_python(self, value):
        return sources_from_lines(super().to_python(value))


class ArticleForm(forms.ModelForm):
    sources = SourcesField(
        required=False,
        help_text="One source a line: its title, a vertical bar, its address "
                  "(Cryptoassets Manual CRYPTO22500 | https://www.gov.uk/…). Shown on the article page.",
    )

    class Meta:
        model = Article
        fields = ["sources"]  # the admin's fieldsets decide the rest


@admin.register(Article)
class ArticleAdmin(EducationAdminMixin, VersionAdmin):
    form = ArticleForm
    change_form_template = "admin/education/article/change_form.html"
    preview_field = "body_markdown"
    preview_with_toc = True
    diff_fields = ARTICLE_DIFF_FIELDS

    list_display = ("title", "category", "level", "status", "published_at", "path_order", "updated_at")
    list_filter = ("status", "level", "category")
    list_select_related = ("category",)
    search_fields = ("title", "slug", "summary", "body_markdown")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("related_terms",)
    date_hierarchy = "published_at"
    ordering = ("path_order", "title")
    actions = ["publish_selected", "unpublish_selected"]
    readonly_fields = ("status", "reading_time", "author", "created_at", "updated_at", "view_on_site_link",
                       "loaded_from_file")
    fieldsets = (
        (None, {"fields": ("title", "slug", "category", "level", "summary", "body_markdown")}),
        ("Publishing", {"fields": ("status", "published_at", "view_on_site_link", "path_order",
                                   "seo_description", "related_terms")}),
        ("Sources", {"fields": ("sources", "checked_on")}),
        ("Record", {"classes": ("collapse",),
                    "fields": ("reading_time", "author", "created_at", "updated_at", "loaded_from_file")}),
    )

    @admin.display(description="Page")
    def view_on_site_link(self, obj):
        if not obj.pk:
            return "—"
        label = "Open the article" if obj.is_public else "Preview the page (staff only)"
        return format_html('<a href="{}">{}</a>', obj.get_absolute_url(), label)

    @admin.display(description="Content file")
    def loaded_from_file(self, obj):
        if not obj.pk or not obj.source_hash:
            return "Not loaded from a file."
        current = services.article_fingerprint(obj, obj.category.slug, [t.slug for t in obj.related_terms.all()])
        if current == obj.loaded_fingerprint:
            return "Loaded from education/content/; unchanged since, so a content reload may update it."
        return "Changed here since it was loaded: content reloads leave it alone."

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        pending = None
        if obj is not None:
            pending = ContentUpdate.objects.filter(kind=ContentUpdate.Kind.ARTICLE, slug=obj.slug,
                                                   state=ContentUpdate.State.PENDING).first()
        return super().change_view(request, object_id, form_url,
                                   {"pending_update": pending, **(extra_context or {})})

    def save_model(self, request, obj, form, change):
        if not change and obj.author_id is None:
            obj.author = request.user
        services.article_save(article=obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        article = form.instance
        if "_publish" in request.POST:
            services.article_publish(article=article)
            self.message_user(request, f"“{article}” is published.", messages.SUCCESS)
        elif "_unpublish" in request.POST:
            services.article_unpublish(article=article)
            self.message_user(request, f"“{article}” is now a draft and hidden from readers.", messages.SUCCESS)

    def delete_model(self, request, obj):
        services.article_delete(article=obj)

    def delete_queryset(self, request, queryset):
        for article in queryset:
            services.article_delete(article=article)

    @admin.action(description="Publish selected articles", permissions=["change"])
    def publish_selected(self, request, queryset):
        drafts = [a for a in queryset if a.status != Status.PUBLISHED]
        for article in drafts:
            services.article_publish(article=article)
        self.message_user(request, f"Published {len(drafts)} article(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected articles (back to draft)", permissions=["change"])
    def unpublish_selected(self, request, queryset):
        published = [a for a in queryset if a.status == Status.PUBLISHED]
        for article in published:
            services.article_unpublish(article=article)
        self.message_user(request, f"Unpublished {len(published)} article(s).", messages.SUCCESS)


@admin.register(GlossaryTerm)
class GlossaryTermAdmin(EducationAdminMixin, VersionAdmin):
    change_form_template = "admin/education/glossaryterm/change_form.html"
    preview_field = "explanation_markdown"
    diff_fields = TERM_DIFF_FIELDS

    list_display = ("term", "slug", "related_article", "updated_at")
    list_select_related = ("related_article",)
    search_fields = ("term", "slug", "short_definition", "explanation_markdown")
    prepopulated_fields = {"slug": ("term",)}
    autocomplete_fields = ("related_article",)
    readonly_fields = ("created_at", "updated_at")
    fields = ("term", "slug", "short_definition", "explanation_markdown", "related_article",
              "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        services.term_save(term=obj)

    def delete_model(self, request, obj):
        services.term_delete(term=obj)

    def delete_queryset(self, request, queryset):
        for term in queryset:
            services.term_delete(term=term)


@admin.register(ContentUpdate)
class ContentUpdateAdmin(admin.ModelAdmin):
    """A content file's newer version of an article or term an editor
    changed: compare it with the live text, then apply or dismiss it."""

    change_form_template = "admin/education/contentupdate/change_form.html"
    list_display = ("slug", "kind", "state", "created_at", "decided_by", "decided_at")
    list_filter = ("state", "kind")
    list_select_related = ("decided_by",)
    search_fields = ("slug",)
    readonly_fields = ("kind", "slug", "state", "created_at", "decided_by", "decided_at")
    fields = readonly_fields

    def get_ordering(self, request):
        # Waiting ones first, newest first.
        return [Case(When(state=ContentUpdate.State.PENDING, then=Value(0)), default=Value(1),
                     output_field=IntegerField()), "-created_at"]

    def has_add_permission(self, request):
        return False  # the loader makes them

    def has_delete_permission(self, request, obj=None):
        return False  # decided ones are the record of what was reviewed

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/apply/", wrap(require_POST(self.apply_view)), name="education_contentupdate_apply"),
            path("<int:pk>/dismiss/", wrap(require_POST(self.dismiss_view)), name="education_contentupdate_dismiss"),
        ] + super().get_urls()

    def _current(self, update: ContentUpdate) -> dict[str, str]:
        """The live item's text, field by field, as the diff shows it."""
        if update.kind == ContentUpdate.Kind.ARTICLE:
            item = Article.objects.filter(slug=update.slug).select_related("category").first()
            if item is None:
                return {}
            return {
                "title": item.title, "category": item.category.slug, "level": item.level, "summary": item.summary,
                "seo_description": item.seo_description, "path_order": str(item.path_order or ""),
                "related_terms": "\n".join(sorted(t.slug for t in item.related_terms.all())),
                "sources": sources_as_lines(item.sources),
                "checked_on": item.checked_on.isoformat() if item.checked_on else "",
                "body_markdown": item.body_markdown,
            }
        term = GlossaryTerm.objects.filter(slug=update.slug).select_related("related_article").first()
        if term is None:
            return {}
        return {"term": term.term, "short_definition": term.short_definition,
                "explanation_markdown": term.explanation_markdown,
                "related_article": term.related_article.slug if term.related_article else ""}

    @staticmethod
    def _proposed(update: ContentUpdate) -> dict[str, str]:
        values = dict(update.values)
        if update.kind == ContentUpdate.Kind.ARTICLE:
            values["related_terms"] = "\n".join(sorted(values.get("related_terms") or []))
            values["sources"] = sources_as_lines(values.get("sources") or [])
        return {key: "" if value is None else str(value) for key, value in values.items()}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        update = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if update is not None:
            current, proposed = self._current(update), self._proposed(update)
            labels = dict(ARTICLE_DIFF_FIELDS if update.kind == ContentUpdate.Kind.ARTICLE else TERM_DIFF_FIELDS)
            labels.update({"category": "Category", "related_terms": "Related terms", "related_article": "Article"})
            extra["changes"] = [
                {"label": labels.get(key, key), "lines": diff_lines(current.get(key, ""), proposed.get(key, ""))}
                for key in proposed if current.get(key, "") != proposed.get(key, "")
            ]
            extra["item_missing"] = not current
            extra["can_decide"] = update.state == ContentUpdate.State.PENDING and self.has_change_permission(
                request, update)
        return super().change_view(request, object_id, form_url, extra)

    def _decide(self, request, pk: int, decide, done: str):
        update = get_object_or_404(ContentUpdate, pk=pk)
        if not self.has_change_permission(request, update):
            raise PermissionDenied
        try:
            decide(update=update, user=request.user)
        except services.ContentUpdateError as exc:
            self.message_user(request, f"Nothing changed: {exc}.", messages.ERROR)
        else:
            self.message_user(request, done.format(slug=update.slug), messages.SUCCESS)
        return redirect(reverse("admin:education_contentupdate_change", args=[pk]))

    def apply_view(self, request, pk: int):
        return self._decide(request, pk, services.content_update_apply,
                            "The file's version of “{slug}” is applied; the previous text is in its history.")

    def dismiss_view(self, request, pk: int):
        return self._decide(request, pk, services.content_update_dismiss,
                            "Dismissed: “{slug}” keeps the editor's version, and this file version is not offered "
                            "again.")
