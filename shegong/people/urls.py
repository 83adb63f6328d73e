"""Worker pages, mounted at the root: /workers/… ("people:worker_detail")."""

from django.urls import path

from shegong.people import views

app_name = "people"

urlpatterns = [
    path("workers/", views.worker_index, name="worker_index"),
    path("workers/new/", views.worker_new, name="worker_new"),
    path("workers/<int:pk>/", views.worker_detail, name="worker_detail"),
    path("workers/<int:pk>/edit/", views.worker_edit, name="worker_edit"),
    path("workers/<int:pk>/reveal/<str:field>/", views.worker_reveal_view, name="worker_reveal"),
]
