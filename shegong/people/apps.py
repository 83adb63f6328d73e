from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "shegong.people"
    label = "people"
    verbose_name = "社区工作者"
