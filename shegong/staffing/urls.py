"""Staffing pages, mounted at the root in the "staffing" namespace (one include: Django reverses a
namespace through one include only): compliance/, descriptions/, post-types/, appointments/ and the
appointment form under workers/. A description's street code may be given at natural length (220102001)
or as 12 digits (220102001000)."""

from django.urls import include, path

from shegong.staffing import views

app_name = "staffing"

compliance_patterns = [
    path("", views.compliance_index, name="compliance"),
    path("export.xlsx", views.compliance_export, name="compliance_export"),
    path("vacancies/", views.vacancy_index, name="vacancies"),
]

description_patterns = [
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

urlpatterns = [
    path("compliance/", include(compliance_patterns)),
    path("descriptions/", include(description_patterns)),
    path("workers/<int:pk>/appoint/", views.worker_appoint, name="worker_appoint"),
    path("appointments/<int:pk>/end/", views.appointment_end_view, name="appointment_end"),
    path("post-types/", views.post_type_index, name="post_types"),
]
