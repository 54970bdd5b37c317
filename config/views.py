from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.health import check_broker, check_cache, check_database, check_worker, overall_status


def home(request):
    """Visitors see what the product does; signed-in users go to their dashboard."""
    if request.user.is_authenticated:
        return redirect("portfolios:dashboard")
    return render(request, "home.html")


@never_cache
@require_GET
def status(request):
    """The human face of /healthz: the same checks, in words."""
    database = check_database()
    cache_status = check_cache()
    broker = check_broker()
    worker = check_worker(broker["ok"])
    rows = [
        {
            "key": "database",
            "name": "Database",
            "ok": database["ok"],
            "text": "your portfolios, pools and reports are readable."
            if database["ok"]
            else "stored data cannot be read or saved right now.",
        },
        {
            "key": "cache",
            "name": "Cache",
            "ok": cache_status["ok"],
            "text": "answers are served quickly." if cache_status["ok"] else "pages are slower than usual.",
        },
        {
            "key": "queue",
            "name": "Task queue",
            "ok": broker["ok"],
            "text": "requests for background work are accepted."
            if broker["ok"]
            else "new tax reports and refreshes cannot be queued.",
        },
        {
            "key": "worker",
            "name": "Background worker",
            "ok": worker["ok"],
            "text": "pool data, revaluations and tax reports are being processed."
            if worker["ok"]
            else "queued work waits until a worker is back; nothing is lost.",
        },
    ]
    # As /healthz says it (config.health.overall_status): only a database outage makes the site
    # unusable (503); without the cache, the queue or a worker it works, with less.
    health = overall_status({"database": database, "cache": cache_status, "broker": broker, "worker": worker})
    overall = {"ok": "ok", "degraded": "degraded", "unhealthy": "down"}[health]
    context = {"rows": rows, "overall": overall, "checked_at": timezone.now()}
    return render(request, "status.html", context, status=503 if health == "unhealthy" else 200)
