"""Every periodic (beat) schedule, in one place.

They are stored in the database by django-celery-beat so that an admin can
change or pause them; ``seed_schedules`` (called from data migrations) adds
the missing ones and never overwrites an entry an admin has edited.

Each entry: name -> (task, crontab kwargs, why).
"""

SCHEDULES: dict[str, tuple[str, dict[str, str], str]] = {
    "heartbeat": (
        "config.tasks.heartbeat",
        {"minute": "*"},
        "Every minute: proves beat and a worker are alive (shown by /healthz).",
    ),
    "reap-stale-work": (
        "config.tasks.reap_stale_work",
        {"minute": "*"},
        "Every minute: work whose worker stopped heartbeating (killed, lost) is marked failed "
        "and queued again, so nothing stays 'running' (config/heartbeat.py).",
    ),
    "refresh-pools": (
        "pools.tasks.refresh_pools",
        {"minute": "7"},
        "Hourly at :07: DeFiLlama updates yields about hourly; off the hour "
        "to avoid the top-of-hour rush on the public API.",
    ),
    "refresh-prices": (
        "pools.tasks.refresh_prices",
        {"minute": "*/5"},
        "Every 5 minutes: latest prices of tokens held in portfolios.",
    ),
    "refresh-fx-rates": (
        "pools.tasks.refresh_fx_rates",
        {"minute": "30", "hour": "15,17", "day_of_week": "1-5"},
        "Weekdays at 15:30 and 17:30 UTC: the ECB publishes its reference rates around "
        "16:00 Frankfurt time (14:00 or 15:00 UTC); the second run catches a late publication.",
    ),
    "snapshot-portfolios": (
        "portfolios.tasks.snapshot_all_portfolios",
        {"minute": "15", "hour": "0"},
        "Daily at 00:15 UTC: yesterday's closing value of every portfolio.",
    ),
    "sync-wallets": (
        "portfolios.wallets.tasks.sync_active_wallets",
        {"minute": "40"},
        "Hourly at :40: re-sync every active wallet from its checkpoint (incremental; a wallet "
        "already syncing is skipped), off the pools refresh at :07.",
    ),
    "alert-digests": (
        "alerts.tasks.send_alert_digests",
        {"minute": "0", "hour": "7"},
        "Daily at 07:00 UTC: one email per user who chose the daily digest, listing the alerts "
        "not emailed yet (morning in Europe, night before in the Americas).",
    ),
}


def seed_schedules(apps, names: list[str] | None = None) -> None:
    """Create missing beat entries (idempotent; leaves edited ones alone)."""
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, (task, cron, why) in SCHEDULES.items():
        if names is not None and name not in names:
            continue
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        fields = {"minute": "0", "hour": "*", "day_of_week": "*", "day_of_month": "*",
                  "month_of_year": "*", "timezone": "UTC"}
        fields.update(cron)
        schedule, _ = CrontabSchedule.objects.get_or_create(**fields)
        PeriodicTask.objects.create(name=name, task=task, crontab=schedule, description=why)
