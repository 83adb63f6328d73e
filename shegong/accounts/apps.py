from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "shegong.accounts"
    label = "accounts"
    verbose_name = "账号与权限"

    def ready(self) -> None:
        from shegong.accounts import signals  # noqa: F401  (tokens follow password and account changes)
