from django.apps import AppConfig


class ArchivesConfig(AppConfig):
    name = "shegong.archives"
    label = "archives"
    verbose_name = "人事档案"
