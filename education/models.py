"""Learning content: categories, articles, glossary terms.

Rendered HTML, the table of contents, reading time and the search vector are
derived from the markdown by ``education.services`` on every save; never set
them by hand. ``source_hash``/``loaded_fingerprint`` belong to the content
loader (``load_learning_content``): they let a re-run tell an item it loaded
and nobody touched since from one an editor changed.
"""

import reversion
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from education.content_files import sources_problems


def validate_sources(value) -> None:
    """A list of {"title", "url"} with http(s) URLs: the page links them."""
    problems = sources_problems(value)
    if problems:
        raise ValidationError("; ".join(problems))


class Level(models.TextChoices):
    BEGINNER = "beginner", "Beginner"
    INTERMEDIATE = "intermediate", "Intermediate"
    ADVANCED = "advanced", "Advanced"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"


class LoadedFromFile(models.Model):
    """Bookkeeping for the content loader (see module docstring)."""

    source_hash = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="SHA-256 of the file this item was last loaded from.",
    )
    loaded_fingerprint = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="Fingerprint of the editable fields as the loader last wrote them.",
    )

    class Meta:
        abstract = True


# Versions leave out the loader's bookkeeping and the derived search vector:
# a reverted item gets them blank, so the loader treats it as an editor's.
LOADER_FIELDS = ("source_hash", "loaded_fingerprint")


@reversion.register(exclude=LOADER_FIELDS)
class Category(LoadedFromFile):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


@reversion.register(exclude=LOADER_FIELDS)
class GlossaryTerm(LoadedFromFile):
    term = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    short_definition = models.CharField(max_length=400)
    explanation_markdown = models.TextField("longer explanation (markdown)", blank=True)
    explanation_html = models.TextField(blank=True, editable=False)
    related_article = models.ForeignKey(
        "Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="defining_terms",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Not a column: set for readers by education.selectors.with_public_article.
    public_article: "Article | None"

    class Meta:
        ordering = [Lower("term")]
        constraints = [
            models.UniqueConstraint(Lower("term"), name="education_term_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.term

    def get_absolute_url(self) -> str:
        return reverse("education:term", args=[self.slug])

    @property
    def letter(self) -> str:
        first = self.term[:1].upper()
        return first if first.isalpha() else "#"


@reversion.register(exclude=(*LOADER_FIELDS, "search_vector"))
class Article(LoadedFromFile):
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="articles")
    level = models.CharField(max_length=12, choices=Level.choices, default=Level.BEGINNER)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    summary = models.TextField(help_text="One or two sentences shown in lists and search results.")
    seo_description = models.CharField(max_length=300, blank=True)
    body_markdown = models.TextField("body (markdown)")
    body_html = models.TextField(blank=True, editable=False)
    toc = models.JSONField(default=list, blank=True, editable=False)
    reading_time = models.PositiveSmallIntegerField(default=1, editable=False, help_text="Minutes.")
    related_terms = models.ManyToManyField(GlossaryTerm, blank=True, related_name="articles")
    path_order = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Position in the suggested learning path (empty: not on the path).",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Weighted title (A), summary (B), body (C); written by the services on
    # PostgreSQL only (NULL elsewhere).
    search_vector = SearchVectorField(null=True, blank=True, editable=False)
    # Where the facts come from: [{"title": ..., "url": ...}], shown on the
    # page; checked_on is the day an editor last checked the text against them.
    sources = models.JSONField(
        default=list, blank=True, validators=[validate_sources],
        help_text="The primary sources the article was checked against.",
    )
    checked_on = models.DateField(
        null=True, blank=True, help_text="The day the facts were last checked against the sources.",
    )

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=Status.PUBLISHED) | Q(published_at__isnull=False),
                name="education_article_published_has_date",
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="education_article_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(level__in=Level.values), name="education_article_level_valid",
            ),
            models.CheckConstraint(condition=Q(reading_time__gte=1), name="education_article_reading_time_positive"),
        ]
        indexes = [
            # Learn home, category lists and the API: published articles by category.
            models.Index(fields=["status", "category"], name="education_article_status_cat"),
            # Full-text search (selectors.search_articles) on PostgreSQL. The
            # migration creates it on PostgreSQL only; SQLite has no GIN.
            GinIndex(fields=["search_vector"], name="education_article_search_gin"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("education:article", args=[self.slug])

    @property
    def is_public(self) -> bool:
        """Readers see it: published and the publish date has come."""
        return (
            self.status == Status.PUBLISHED
            and self.published_at is not None
            and self.published_at <= timezone.now()
        )


class ContentUpdate(models.Model):
    """A content file's newer version of an item that an editor has changed.

    The loader never overwrites an editor's change; when the file behind such
    an item changes, it stores the file's version here instead, for an editor
    to review and apply (or dismiss) in the admin. ``values`` holds the
    editable fields as the file has them (related items by slug)."""

    class Kind(models.TextChoices):
        ARTICLE = "article", "Article"
        TERM = "term", "Glossary term"

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for review"
        APPLIED = "applied", "Applied"
        DISMISSED = "dismissed", "Dismissed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    slug = models.SlugField(max_length=120, db_index=False)  # covered by the unique constraint
    source_hash = models.CharField(max_length=64, help_text="SHA-256 of the file version.")
    values = models.JSONField(help_text="The file's version of the editable fields.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One row per file version of an item: a dismissed version is not offered again.
            models.UniqueConstraint(fields=["kind", "slug", "source_hash"], name="education_update_one_per_version"),
            models.CheckConstraint(condition=Q(state__in=["pending", "applied", "dismissed"]),
                                   name="education_update_state_valid"),
        ]
        indexes = [
            # The admin list (pending first) and the article form's "a newer version waits" note.
            models.Index(fields=["state", "kind", "slug"], name="education_update_state_item"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.slug}: file version of {self.created_at:%Y-%m-%d}"
