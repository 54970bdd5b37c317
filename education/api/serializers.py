"""Read-only representations of learning content for the mobile app."""

from django.urls import reverse
from rest_framework import serializers

from education.models import Article, Category, GlossaryTerm


def _web_url(serializer: serializers.Serializer, path: str) -> str:
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request else path


class CategoryOut(serializers.ModelSerializer):
    article_count = serializers.IntegerField(read_only=True, help_text="Published articles in this category.")

    class Meta:
        model = Category
        fields = ["slug", "name", "description", "order", "article_count"]
        read_only_fields = fields


class TermRefOut(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The term's web page.")

    class Meta:
        model = GlossaryTerm
        fields = ["slug", "term", "short_definition", "url"]
        read_only_fields = fields

    def get_url(self, obj: GlossaryTerm) -> str:
        return _web_url(self, obj.get_absolute_url())


class TocChildOut(serializers.Serializer):
    id = serializers.CharField(help_text="Anchor id of the heading in body_html.")
    name = serializers.CharField()
    level = serializers.IntegerField()


class TocEntryOut(TocChildOut):
    children = TocChildOut(many=True)


class ArticleListOut(serializers.ModelSerializer):
    category: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    category_name = serializers.CharField(source="category.name", read_only=True)
    reading_time = serializers.IntegerField(read_only=True, help_text="Minutes.")
    url = serializers.SerializerMethodField(help_text="The article's web page.")

    class Meta:
        model = Article
        fields = ["slug", "title", "summary", "level", "category", "category_name", "reading_time",
                  "path_order", "published_at", "updated_at", "url"]
        read_only_fields = fields

    def get_url(self, obj: Article) -> str:
        return _web_url(self, reverse("education:article", args=[obj.slug]))


class SourceOut(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.URLField()


class ArticleDetailOut(ArticleListOut):
    toc = TocEntryOut(many=True, read_only=True, help_text="Table of contents (long articles only; else empty).")
    sources = SourceOut(many=True, read_only=True, help_text="The primary sources the facts were checked against.")
    checked_on = serializers.DateField(read_only=True, allow_null=True,
                                       help_text="The day the facts were last checked against the sources.")
    body_html = serializers.CharField(read_only=True, help_text="Sanitised HTML rendered from body_markdown.")
    related_terms = TermRefOut(many=True, read_only=True)

    class Meta(ArticleListOut.Meta):
        fields = [*ArticleListOut.Meta.fields, "seo_description", "toc", "body_html", "body_markdown",
                  "related_terms", "sources", "checked_on"]
        read_only_fields = fields


class TermListOut(serializers.ModelSerializer):
    related_article = serializers.SerializerMethodField(
        help_text="Slug of the published article that explains the term, or null.")
    url = serializers.SerializerMethodField(help_text="The term's web page.")

    class Meta:
        model = GlossaryTerm
        fields = ["slug", "term", "short_definition", "related_article", "url"]
        read_only_fields = fields

    def get_related_article(self, obj: GlossaryTerm) -> str | None:
        article = obj.related_article
        return article.slug if article is not None and article.is_public else None

    def get_url(self, obj: GlossaryTerm) -> str:
        return _web_url(self, obj.get_absolute_url())


class TermDetailOut(TermListOut):
    explanation_html = serializers.CharField(read_only=True, help_text="Sanitised HTML.")

    class Meta(TermListOut.Meta):
        fields = [*TermListOut.Meta.fields, "explanation_markdown", "explanation_html"]
        read_only_fields = fields
