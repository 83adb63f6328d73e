from django.apps import AppConfig


class StaffingConfig(AppConfig):
    name = "shegong.staffing"
    label = "staffing"
    verbose_name = "岗位与任职"
