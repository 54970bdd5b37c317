"""Load the mainnet chains shipped in portfolios/wallets/data/chains.json (create only:
chains an admin already has are left alone; ``manage.py chains_load`` updates them)."""

import json

from django.db import migrations

from portfolios.wallets.chain.config import DEFAULT_PATH, parse_chains


def load(apps, schema_editor):
    Chain = apps.get_model("wallets", "Chain")
    for c in parse_chains(json.loads(DEFAULT_PATH.read_text(encoding="utf-8")), str(DEFAULT_PATH)):
        Chain.objects.get_or_create(
            chain_id=c.chain_id,
            defaults={
                "slug": c.slug,
                "name": c.name,
                "native_symbol": c.native_symbol,
                "native_price_id": c.native_price_id,
                "rpc_urls": list(c.rpc_urls),
                "explorer_api": c.explorer_api or "",
                "explorer_url": c.explorer_url or "",
                "max_log_range": c.max_log_range,
                "confirmations": c.confirmations,
                "batch_size": c.batch_size,
                "wrapped_native": c.wrapped_native or "",
                "uniswap_v2": [{"name": p.name, "factory": p.factory} for p in c.uniswap_v2],
                "uniswap_v3": [
                    {"name": p.name, "factory": p.factory, "position_manager": p.position_manager}
                    for p in c.uniswap_v3
                ],
                "tokens": {a: {"symbol": t.symbol, "price_id": t.price_id} for a, t in c.tokens.items()},
                "rebasing_tokens": sorted(c.rebasing_tokens),
            },
        )


class Migration(migrations.Migration):
    dependencies = [("wallets", "0002_wallets_seed_sync_schedule")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
