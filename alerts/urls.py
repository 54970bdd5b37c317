from django.urls import path

from alerts import views

app_name = "alerts"

urlpatterns = [
    path("", views.notifications, name="notifications"),
    path("read/", views.notifications_read, name="notifications_read"),
    path("watchlist/", views.watchlist, name="watchlist"),
    path("watchlist/seen/", views.watchlist_seen, name="watchlist_seen"),
    path("watch/", views.watch_form, name="watch_form"),
    path("watch/<int:pool_id>/", views.watch_toggle, name="watch_toggle"),
    path("rules/", views.rules, name="rules"),
    path("rules/<int:rule_id>/", views.rule_action, name="rule_action"),
    path("positions/<int:position_id>/", views.position_defaults, name="position_defaults"),
    path("preferences/", views.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
    path("opportunities/", views.opportunities, name="opportunities"),
]
