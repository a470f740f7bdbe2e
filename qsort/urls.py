from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("qsort.api.urls")),
    path("", include("qsort.participate.urls")),
    path("", include("qsort.runs.urls")),
    path("", include("qsort.exchange.urls")),
    path("", include("qsort.rooms.urls")),
    path("", include("qsort.workspace.urls")),
]

handler500 = "qsort.errors.server_error"
