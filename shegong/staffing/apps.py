from django.apps import AppConfig


class StaffingConfig(AppConfig):
    name = "shegong.staffing"
    label = "staffing"
    verbose_name = "岗位与任职"

    def ready(self) -> None:
        # The worker list's post filter reads staffing's post types from its process cache: people sits
        # below staffing and is handed the source rather than importing it.
        from shegong.people.filters import provide_post_types
        from shegong.staffing.post_types import post_type_rows

        provide_post_types(post_type_rows)
