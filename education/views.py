"""Learn pages: thin views over ``education.selectors``."""

from django.shortcuts import render
from django.views.decorators.http import require_safe

from education import selectors
from education.models import Level

# Articles whose numbers a calculator lets the reader try (Learn URLs, not imports:
# education depends on no other app).
ARTICLE_CALCULATORS = {
    "impermanent-loss": ("/learn/calculators/impermanent-loss/", "Try it: the impermanent loss calculator"),
    "concentrated-liquidity": (
        "/learn/calculators/impermanent-loss/?model=concentrated",
        "Try a range: the impermanent loss calculator",
    ),
    "hedging-impermanent-loss": ("/learn/calculators/break-even/", "The break-even fee APR calculator"),
    "stablecoin-pools": ("/learn/calculators/impermanent-loss/?model=stableswap", "Try a StableSwap pool"),
    "apr-vs-apy-and-real-yield": ("/learn/calculators/apy/", "Try it: the APR ↔ APY converter"),
}


@require_safe
def home(request):
    level = selectors.valid_level(request.GET.get("level"))
    return render(request, "education/home.html", {
        "categories": selectors.categories_with_articles(level=level),
        "path": selectors.learning_path(),
        "level": level,
        "levels": Level.choices,
    })


@require_safe
def article(request, slug):
    article = selectors.article_get_for_reader(slug=slug, user=request.user)
    path = selectors.learning_path()
    previous, following = selectors.path_neighbours(article=article, path=path)
    return render(request, "education/article.html", {
        "article": article,
        "is_draft_preview": not article.is_public,
        "related_terms": selectors.article_related_terms(article=article),
        "previous": previous,
        "next": following,
        "path_length": len(path),
        "calculator": ARTICLE_CALCULATORS.get(article.slug),
    })


@require_safe
def glossary(request):
    letters = selectors.glossary_by_letter()
    return render(request, "education/glossary.html", {
        "letters": letters,
        "term_count": sum(len(group.terms) for group in letters),
    })


@require_safe
def term(request, slug):
    term = selectors.term_get(slug=slug)
    return render(request, "education/term.html", {
        "term": term,
        "articles": selectors.term_articles(term=term),
    })


@require_safe
def search(request):
    q = " ".join(request.GET.get("q", "").split())[: selectors.MAX_QUERY_LENGTH]
    articles = list(selectors.search_articles(q=q)[:30]) if q else []
    terms = list(selectors.search_terms(q=q)[:30]) if q else []
    return render(request, "education/search.html", {"q": q, "articles": articles, "terms": terms})
