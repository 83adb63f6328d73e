from django.urls import include, path

from shegong.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("roster/", include("shegong.roster.urls")),
    path("compliance/", include("shegong.staffing.urls")),
    path("descriptions/", include("shegong.staffing.description_urls")),
    path("archives/", include("shegong.archives.urls")),
    path("", include("shegong.web.urls")),
]
