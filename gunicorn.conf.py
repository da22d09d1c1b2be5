"""Production server settings: `gunicorn -c gunicorn.conf.py` (what `make serve` runs).

The supported deployment is this gunicorn behind nginx, which terminates TLS and buffers slow
clients (docs/deploy.md). The limits below are still chosen for gunicorn facing phones directly
(local use, a community centre's one box), so that nothing here depends on the proxy to be sane.
What they cannot do: gunicorn's gthread worker has no timeout for reading request headers or
bodies. Once a client has sent its first bytes, a thread waits for the rest as long as the client
likes, so a few dozen slow (or malicious) connections hold every thread. Only a buffering proxy
defends against that.
"""

import os

wsgi_app = "wizard:create_app()"
bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
# gthread: a slow phone upload holds one thread, not a whole worker (sync workers block), and
# idle keep-alive connections wait in the worker's poller without holding a thread at all.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("THREADS", "8"))
# No preload: each worker opens its own SQLite connections after the fork.
preload_app = False

# A worker silent this long is killed and restarted. Pages take milliseconds and SQLite waits at
# most its busy timeout (10 s, store.py), so 30 s only ever catches a stuck worker.
timeout = 30
# On restart or deploy, requests in flight get this long to finish; a page is answered in
# milliseconds, so 20 s covers a slow phone still downloading one (and keeps restarts quick).
graceful_timeout = 20
# Seconds an idle connection stays open for the next request. A family reads a page and taps on
# within seconds; reusing the connection saves a TLS handshake on a slow mobile network, and an
# idle gthread connection costs a poller slot, not a thread. Longer would only keep sockets of
# phones that went away (gunicorn's advice for direct clients: 1 to 5 s).
keepalive = 5

# Request size limits, checked before the app sees anything (gunicorn answers 400 itself).
# The longest URL of the app is a step page with ?return=review&lang=..., under 200 bytes;
# messaging apps append tracking query strings when a link is shared, so leave room: 4 KiB
# (gunicorn's default; its maximum is 8190).
limit_request_line = 4094
# A phone's browser sends about 15 headers, nginx adds 4 (X-Forwarded-*); 50 is plenty and
# halves the default of 100 that a client may make the parser hold.
limit_request_fields = 50
# One header field: the app's cookies together are well under 1 KiB and in-app browsers send
# User-Agents of a few hundred bytes; 8190 (the default) fits those with room and still bounds
# what one header can make a thread hold. Bodies have no gunicorn limit: the app refuses more
# than 64 KiB (MAX_CONTENT_LENGTH) and nginx's client_max_body_size does the same.
limit_request_field_size = 8190

# X-Forwarded-Proto (which makes wsgi.url_scheme https) is believed only from these addresses:
# the same list the app uses for X-Forwarded-For/-Proto (WIZARD_TRUSTED_PROXIES, comma-separated
# addresses or CIDR ranges; default: nginx on the same host). Anyone else can send the header too.
forwarded_allow_ips = os.environ.get("WIZARD_TRUSTED_PROXIES", "127.0.0.1,::1")

accesslog = "-"
# Query strings can carry resume codes: log the path only.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
