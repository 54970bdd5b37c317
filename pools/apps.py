from django.apps import AppConfig


class PoolsConfig(AppConfig):
    name = "pools"
    verbose_name = "Pools and prices"

    def ready(self) -> None:
        # Refresh runs whose worker dies are failed and queued again by config.tasks.reap_stale_work.
        from config.heartbeat import register
        from pools.services.reaping import STALE_REFRESH_RUNS

        register(STALE_REFRESH_RUNS)
