"""/api/v1/learn/…: public, read-only learning content."""

from rest_framework.routers import SimpleRouter

from education.api import views

router = SimpleRouter()
router.register("learn/categories", views.CategoryViewSet, basename="learn-category")
router.register("learn/articles", views.ArticleViewSet, basename="learn-article")
router.register("learn/glossary", views.GlossaryViewSet, basename="learn-term")

urlpatterns = router.urls
