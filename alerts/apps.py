from django.apps import AppConfig


class AlertsConfig(AppConfig):
    """Watchlist, alert rules, notifications (in app, email, API) and opportunities."""

    name = "alerts"
    verbose_name = "Alerts and watchlist"

    def ready(self) -> None:
        # Evaluate rules after each pool or price refresh (pools sends the signals; it never imports us).
        from alerts import receivers  # noqa: F401
