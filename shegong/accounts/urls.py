"""The accounts pages, under /accounts/ (namespace "accounts"). The login page stays at /login/ (web's)."""

from django.urls import path

from shegong.accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_home, name="account"),
    path("password/", views.password_change_view, name="password"),
    path("tokens/", views.token_index, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
    path("logins/", views.login_index, name="logins"),
    path("users/", views.user_index, name="users"),
    path("users/new/", views.user_new, name="user_new"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/grants/new/", views.grant_add_view, name="grant_new"),
    path("users/<int:pk>/grants/<int:grant_pk>/remove/", views.grant_remove_view, name="grant_remove"),
    path("users/<int:pk>/deactivate/", views.user_active_view, {"active": False}, name="user_deactivate"),
    path("users/<int:pk>/activate/", views.user_active_view, {"active": True}, name="user_activate"),
]
