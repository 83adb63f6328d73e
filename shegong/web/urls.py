from django.urls import path

from shegong.accounts import views as account_views
from shegong.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", account_views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("divisions/", views.division_index, name="division_index"),
    path("divisions/<str:code>/", views.division_detail, name="division_detail"),
    path("workers/", views.worker_index, name="worker_index"),
    path("workers/new/", views.worker_new, name="worker_new"),
    path("workers/<int:pk>/", views.worker_detail, name="worker_detail"),
    path("workers/<int:pk>/edit/", views.worker_edit, name="worker_edit"),
    path("workers/<int:pk>/appoint/", views.worker_appoint, name="worker_appoint"),
    path("workers/<int:pk>/reveal/<str:field>/", views.worker_reveal_view, name="worker_reveal"),
    path("appointments/<int:pk>/end/", views.appointment_end_view, name="appointment_end"),
    path("post-types/", views.post_type_index, name="post_types"),
]
