"""The shell: home, sign in and out ("web:home"). Each app's pages come from its own urls.py."""

from django.urls import path

from shegong.accounts import views as account_views
from shegong.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", account_views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
]
