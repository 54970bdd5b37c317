"""Education rows built through the services, so HTML/TOC/search vector are
what a real save produces."""

from datetime import timedelta

import factory
from django.utils import timezone

from education import services
from education.models import Article, Category, GlossaryTerm, Level, Status


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")
    description = "What this category covers."
    order = factory.Sequence(int)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.category_save(category=model_class(*args, **kwargs))


class GlossaryTermFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GlossaryTerm
        skip_postgeneration_save = True

    term = factory.Sequence(lambda n: f"Term number {n}")
    slug = factory.Sequence(lambda n: f"term-{n}")
    short_definition = "A short definition."
    explanation_markdown = "A longer explanation with **markdown**."

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.term_save(term=model_class(*args, **kwargs))


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Article {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    category = factory.SubFactory(CategoryFactory)
    level = Level.BEGINNER
    status = Status.PUBLISHED
    published_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    summary = "What this article explains."
    body_markdown = "## First\n\nSome text.\n\n## Second\n\nMore text.\n"

    class Params:
        draft = factory.Trait(status=Status.DRAFT, published_at=None)

    @classmethod
    def _create(cls, model_class, *args, related_terms=None, **kwargs):
        return services.article_save(article=model_class(*args, **kwargs), related_terms=related_terms)
