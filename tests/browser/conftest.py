"""Browser fixtures. They live in browser_kit.py with the helpers the tests import: a module
named conftest cannot be imported reliably from tests in several folders."""

from browser_kit import (  # noqa: F401  (pytest finds fixtures and hooks by name here)
    axe,
    browser,
    family,
    family_nojs,
    fresh_server,
    live_server,
    new_context,
    page,
    page_nojs,
    pytest_collection_modifyitems,
    shot,
)
from deploy_kit import (  # noqa: F401  (the app as deployed: gunicorn over TLS, behind nginx)
    gunicorn_https,
    nginx_proxy,
    tls_cert,
)
