"""gunicorn settings for production (Dockerfile, docker-compose.yml): `gunicorn -c gunicorn.conf.py`.

Access and error logs go to stdout/stderr with participant tokens removed (qsort/security/logs.py).
The access log has no client address: the README promises none is stored.
"""

import os

from gunicorn.glogging import Logger

from qsort.security.logs import install_in_gunicorn

wsgi_app = "qsort.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
timeout = 60
accesslog = "-"
errorlog = "-"
access_log_format = '"%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s"'
# Keep request bodies from slow clients out of the workers' memory budget (README, "Deploying").
limit_request_line = 4094


class TokenFreeLogger(Logger):
    def setup(self, cfg) -> None:
        super().setup(cfg)
        install_in_gunicorn(self)


logger_class = TokenFreeLogger
