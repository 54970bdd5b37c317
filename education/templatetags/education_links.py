"""Links from anywhere on the site to Learn articles.

    {% load education_links %}
    {% learn_link "impermanent-loss" %}
    {% learn_link "impermanent-loss" "What is impermanent loss?" css_class="small" %}

Renders ``<a href="/learn/articles/<slug>/">title</a>`` when the article is
published, and nothing at all when it is missing or a draft, so other apps can
place links before the article exists. Other apps use this tag instead of
importing education models (apps depend one way: education depends on no other app).
"""

from django import template
from django.urls import reverse
from django.utils.html import format_html

from education.selectors import published_articles

register = template.Library()

_CACHE_KEY = "education_links.titles"


def _published_title(context, slug: str) -> str | None:
    # One query per slug per template render, however often it is linked.
    cache = context.render_context.setdefault(_CACHE_KEY, {})
    if slug not in cache:
        cache[slug] = published_articles().filter(slug=slug).values_list("title", flat=True).first()
    return cache[slug]


@register.simple_tag(takes_context=True)
def learn_link(context, slug: str, text: str = "", css_class: str = "learn-link") -> str:
    title = _published_title(context, slug)
    if title is None:
        return ""
    url = reverse("education:article", args=[slug])
    return format_html('<a class="{}" href="{}">{}</a>', css_class, url, text or title)
