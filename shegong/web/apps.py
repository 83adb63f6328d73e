from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "shegong.web"
    label = "web"
    verbose_name = "网页"
