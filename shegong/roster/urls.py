from django.urls import path

from shegong.roster import views

app_name = "roster"

urlpatterns = [
    path("", views.roster_index, name="roster_index"),
    path("template.xlsx", views.roster_template, name="roster_template"),
    path("export/<str:what>.xlsx", views.roster_export, name="roster_export"),
    path("jobs/<int:pk>/", views.roster_job, name="roster_job"),
    path("jobs/<int:pk>/commit/", views.roster_job_commit, name="roster_job_commit"),
    path("jobs/<int:pk>/discard/", views.roster_job_discard, name="roster_job_discard"),
    path("jobs/<int:pk>/retry/", views.roster_job_retry, name="roster_job_retry"),
    path("jobs/<int:pk>/errors.xlsx", views.roster_job_marked, name="roster_job_marked"),
]
