"""Read-only, public API for learning content (published articles only)."""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.permissions import AllowAny

from config.api.ordering import StrictOrderingFilter
from education import selectors
from education.api.serializers import ArticleDetailOut, ArticleListOut, CategoryOut, TermDetailOut, TermListOut
from education.models import Article, Level


class ArticleFilter(django_filters.FilterSet):
    category = django_filters.CharFilter(field_name="category__slug", help_text="Category slug.")
    level = django_filters.ChoiceFilter(choices=Level.choices)
    # Declared last: the search orders its results by relevance.
    q = django_filters.CharFilter(method="search", help_text="Search words; results are ranked by relevance.")

    class Meta:
        model = Article
        fields = ["category", "level", "q"]

    def search(self, queryset, name, value):
        return selectors.search_articles(qs=queryset, q=value)


class PublicReadOnly(viewsets.GenericViewSet):
    permission_classes = [AllowAny]
    lookup_field = "slug"
    filter_backends: list = [StrictOrderingFilter]  # ?ordering= with each list's ordering_fields


@extend_schema_view(
    list=extend_schema(summary="Learning categories", tags=["learn"]),
)
class CategoryViewSet(mixins.ListModelMixin, PublicReadOnly):
    serializer_class = CategoryOut
    ordering_fields = ["name", "id"]

    def get_queryset(self):
        return selectors.category_list()


@extend_schema_view(
    list=extend_schema(summary="Published articles (filter by category, level; search with q)", tags=["learn"]),
    retrieve=extend_schema(summary="A published article with rendered HTML, table of contents and markdown",
                           tags=["learn"]),
)
class ArticleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PublicReadOnly):
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = ArticleFilter
    ordering_fields = ["title", "published_at", "id"]

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.published_articles().select_related("category").prefetch_related("related_terms")
        return selectors.article_list()

    def get_serializer_class(self):
        return ArticleDetailOut if self.action == "retrieve" else ArticleListOut


@extend_schema_view(
    list=extend_schema(summary="Glossary terms A–Z", tags=["learn"]),
    retrieve=extend_schema(summary="A glossary term with its explanation", tags=["learn"]),
)
class GlossaryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PublicReadOnly):
    ordering_fields = ["term", "id"]

    def get_queryset(self):
        return selectors.glossary_terms()

    def get_serializer_class(self):
        return TermDetailOut if self.action == "retrieve" else TermListOut
