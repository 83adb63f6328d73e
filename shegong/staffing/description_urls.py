"""Post description pages, mounted at the root as path("descriptions/", include(...)).

The street code may be given at natural length (220102001) or as 12 digits (220102001000).
"""

from django.urls import path

from shegong.staffing import description_views as views

urlpatterns = [
    path("", views.description_index, name="description_index"),
    path("<str:street_code>/", views.description_list, name="description_list"),
    path("<str:street_code>/<slug:post_code>.pdf", views.description_pdf, name="description_pdf"),
    path("<str:street_code>/<slug:post_code>/", views.description_detail, name="description_detail"),
    path("<str:street_code>/<slug:post_code>/edit/", views.description_edit, name="description_edit"),
    path("<str:street_code>/<slug:post_code>/publish/", views.description_publish_view, name="description_publish"),
    path("<str:street_code>/<slug:post_code>/v<int:version>/", views.description_version,
         name="description_version"),
    path("<str:street_code>/<slug:post_code>/v<int:version>.pdf", views.description_version_pdf,
         name="description_version_pdf"),
]
