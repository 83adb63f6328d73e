"""Every address of the site. Each app's pages come from its urls.py in its own namespace
("people:worker_detail"); the paths are those users have bookmarked, unchanged. Staffing's include is at
the root: it serves compliance/, descriptions/, post-types/, appointments/ and the appointment form
under workers/."""

from django.urls import include, path

from shegong.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("roster/", include("shegong.roster.urls")),
    path("archives/", include("shegong.archives.urls")),
    path("accounts/", include("shegong.accounts.urls")),
    path("", include("shegong.staffing.urls")),
    path("", include("shegong.org.urls")),
    path("", include("shegong.people.urls")),
    path("", include("shegong.web.urls")),
]

# Forbidden / NotVisible (shegong.access) and Django's PermissionDenied / Http404: one rendering for pages.
handler403 = "shegong.web.views.forbidden"
handler404 = "shegong.web.views.not_found"
# A bad request and a server error: Chinese, in a plain frame that reads neither the session nor the database.
handler400 = "shegong.web.errors.bad_request"
handler500 = "shegong.web.errors.server_error"
