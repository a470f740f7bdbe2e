from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from qsort.security.limits import LOGIN, rate_limited
from qsort.security.views import health

# Sign-in attempts are rate-limited per address here; django-axes locks out a username that keeps
# failing from one address (settings, AXES_*).

urlpatterns = [
    path("healthz", health, name="health"),
    path("admin/login/", rate_limited(LOGIN)(admin.site.login)),
    path("admin/", admin.site.urls),
    path("accounts/login/", rate_limited(LOGIN)(auth_views.LoginView.as_view()), name="login"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", include("qsort.api.urls")),
    path("", include("qsort.participate.urls")),
    path("", include("qsort.runs.urls")),
    path("", include("qsort.exchange.urls")),
    path("", include("qsort.rooms.urls")),
    path("", include("qsort.workspace.urls")),
]

handler500 = "qsort.errors.server_error"
