"""Load demo data for the embedded default (safe to re-run).

Creates a verified demo user with a known password and asks each app's demo
loader (``<app>.demo.load``) for its part: pools, education content, a demo
portfolio. Prints the credentials.
"""

import importlib

from django.core.management.base import BaseCommand

from accounts.services import user_ensure_demo

DEMO_EMAIL = "demo@yieldledger.local"
DEMO_PASSWORD = "demo-yieldledger-2026"  # noqa: S105 - public demo account, printed on purpose
APP_LOADERS = ["pools.demo", "education.demo", "portfolios.demo"]


class Command(BaseCommand):
    help = "Load demo data: a demo user, real pools, learning content and a demo portfolio."

    def handle(self, *args, **options):
        user = user_ensure_demo(email=DEMO_EMAIL, password=DEMO_PASSWORD)
        for module_name in APP_LOADERS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue
            summary = module.load(user=user)
            self.stdout.write(f"{module_name}: {summary}")
        self.stdout.write(self.style.SUCCESS(f"Demo user: {DEMO_EMAIL}  password: {DEMO_PASSWORD}"))
