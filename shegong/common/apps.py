from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "shegong.common"
    label = "common"
    verbose_name = "公共"
