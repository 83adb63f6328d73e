"""Division pages, mounted at the root: /divisions/… ("org:division_detail")."""

from django.urls import path

from shegong.org import views

app_name = "org"

urlpatterns = [
    path("divisions/", views.division_index, name="division_index"),
    path("divisions/cascade/", views.division_cascade, name="division_cascade"),
    path("divisions/<str:code>/", views.division_detail, name="division_detail"),
    path("divisions/<str:code>/edit/", views.division_edit, name="division_edit"),
]
