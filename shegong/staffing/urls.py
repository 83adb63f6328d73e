from django.urls import path

from shegong.staffing import views

urlpatterns = [
    path("", views.compliance_index, name="compliance"),
    path("export.xlsx", views.compliance_export, name="compliance_export"),
    path("vacancies/", views.vacancy_index, name="vacancies"),
]
