from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "mibg.web.accounts"
    label = "accounts"
    verbose_name = "Users, roles and API tokens"

    def ready(self) -> None:
        from mibg.web.accounts import security

        security.connect()
