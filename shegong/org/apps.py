from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "shegong.org"
    label = "org"
    verbose_name = "行政区划"
