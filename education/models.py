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
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone


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
