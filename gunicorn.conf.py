"""Production server settings: `gunicorn -c gunicorn.conf.py` (what `make serve` runs)."""

import os

wsgi_app = "wizard:create_app()"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# gthread: a slow phone upload holds one thread, not a whole worker (sync workers block).
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("THREADS", "8"))
timeout = 30
graceful_timeout = 20
# No preload: each worker opens its own SQLite connections after the fork.
preload_app = False
accesslog = "-"
# Query strings can carry resume codes: log the path only.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
