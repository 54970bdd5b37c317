from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from portfolios.wallets.chain.config import ChainConfigError
from portfolios.wallets.models import Chain, Wallet, WalletSync
from portfolios.wallets.services.chains import chain_config


class ChainForm(forms.ModelForm):
    class Meta:
        model = Chain
        fields = [  # noqa: RUF012
            "chain_id", "slug", "name", "native_symbol", "native_price_id", "rpc_urls", "explorer_api",
            "explorer_url", "max_log_range", "confirmations", "batch_size", "wrapped_native", "uniswap_v2",
            "uniswap_v3", "tokens", "rebasing_tokens", "active",
        ]  # fmt: skip

    def clean(self):
        data = super().clean()
        try:
            chain_config(Chain(**{k: v for k, v in data.items() if k != "id"}))  # a chains file's checks
        except ChainConfigError as exc:
            raise ValidationError(exc.problems) from exc
        except (TypeError, ValueError) as exc:
            raise ValidationError(str(exc)) from exc
        return data


@admin.register(Chain)
class ChainAdmin(admin.ModelAdmin):
    form = ChainForm
    list_display = ("name", "slug", "chain_id", "confirmations", "max_log_range", "active")
    list_filter = ("active",)
    search_fields = ("name", "slug")


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = ("address", "label", "portfolio", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("address", "label")
    raw_id_fields = ("portfolio",)


@admin.register(WalletSync)
class WalletSyncAdmin(admin.ModelAdmin):
    list_display = ("wallet", "status", "chains_done", "chains_total", "created_at", "finished_at")
    list_filter = ("status",)
    raw_id_fields = ("wallet",)
