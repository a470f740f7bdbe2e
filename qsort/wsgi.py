import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qsort.settings")
application = get_wsgi_application()

# The production entry point (gunicorn): refuse to serve with a missing or known SECRET_KEY or
# with mail going to the log. Tests and management commands do not come through here.
from qsort.security.checks import refuse_unsafe_production  # noqa: E402

refuse_unsafe_production()
