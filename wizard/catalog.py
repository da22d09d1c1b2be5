"""Published flows, parsed once per version and kept in memory.

A published version's text never changes, so (flow id, version) is a safe cache key; parsing and
checking a flow takes ~100 ms (bench/engine_speed.py), a page view must not pay that.
"""

from __future__ import annotations

import logging
import threading

from .flow import loader
from .flow.model import Flow

# Keyed by the database too: a version number is unique within one database only (tests run
# many apps with their own databases in one process).
_cache: dict[tuple[str, str, int], Flow] = {}
_lock = threading.Lock()
log = logging.getLogger(__name__)


class Unloadable(RuntimeError):
    """A published flow version that no longer loads (published before a loader change)."""


def get(store, flow_id: str, version: int | None = None) -> Flow | None:
    """The flow at a version (default: the newest published), or None."""
    if version is None:
        version = store.latest_version(flow_id)
        if version is None:
            return None
    key = (str(store.path), flow_id, version)
    flow = _cache.get(key)
    if flow is None:
        found = store.flow_source(flow_id, version)
        if found is None:
            return None
        result = loader.load_text(found[1], f"{flow_id} version {version}")
        if result.flow is None:  # published before a loader change made it invalid
            raise Unloadable("; ".join(map(str, result.errors)))
        with _lock:
            flow = _cache.setdefault(key, result.flow)
    return flow


def published(store) -> list[Flow]:
    """The newest version of every flow that loads: one broken flow never hides the others
    (it is logged, and its own pages answer 500)."""
    flows = []
    for row in store.latest_versions():
        try:
            flow = get(store, row["flow_id"], row["version"])
        except Unloadable as exc:
            log.error("published flow %s version %s does not load: %s",
                      row["flow_id"], row["version"], exc)
            continue
        if flow is not None:
            flows.append(flow)
    return flows
