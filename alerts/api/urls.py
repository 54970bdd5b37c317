"""/api/v1/watchlist/, alert-rules/, notifications/, alert-preference/, opportunities/ (the user's own data)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from alerts.api import views

router = SimpleRouter()
router.register("watchlist", views.WatchlistViewSet, basename="watched-pool")
router.register("alert-rules", views.RuleViewSet, basename="alert-rule")
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    *router.urls,
    path("alert-preference/", views.PreferenceView.as_view(), name="alert-preference"),
    path("opportunities/", views.OpportunitiesView.as_view(), name="opportunities"),
]
