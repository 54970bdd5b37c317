"""``manage.py chains_load [FILE.json]``: create or update chains from a chains file
(default: the mainnet file shipped in ``portfolios/wallets/data/chains.json``)."""

from django.core.management.base import BaseCommand, CommandError

from portfolios.wallets.chain.config import DEFAULT_PATH, ChainConfigError
from portfolios.wallets.services.chains import chains_load


class Command(BaseCommand):
    help = "Create or update wallet-sync chains from a chains JSON file (format: docs/wallets.md)."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(DEFAULT_PATH))

    def handle(self, *args, file: str, **options):
        try:
            created, updated = chains_load(file)
        except ChainConfigError as exc:
            raise CommandError(f"Nothing loaded. {exc}") from exc
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror or exc}") from exc
        self.stdout.write(f"{created} chain(s) created, {updated} updated from {file}.")
