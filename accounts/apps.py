from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from allauth.account.signals import password_changed, password_reset, password_set

        from accounts.signals import revoke_legacy_tokens

        for signal in (password_changed, password_reset, password_set):
            signal.connect(revoke_legacy_tokens, dispatch_uid=f"accounts-revoke-legacy-{signal!r}")
