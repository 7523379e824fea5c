"""The cache of the referral analytics (network analytics, pathway funnels, actual flows).

A result is cached per network under a data version made of the newest referral,
referral event, milestone and person ids (plus a counter `bump_version` moves on edits),
so a warm call costs four MAX(id) lookups and a cache read.

At state size a result takes tens of seconds to compute, and any referral moves the
version on. So results registered with `@rebuilt_in_background(name)` are served stale
rather than recomputed in the request: after a change, the last result is returned with
`current=False` and the time it was computed, and the task `refresh_referral_insights`
computes the new one (queued once per version). The first call for a set of
parameters, with nothing to show yet, computes in the request, unless the network has
LARGE_NETWORK referrals or more: then it queues the task too and returns None (the
page says the figures are being computed), since the computation would outlast a web
worker's timeout (30 s at 10 million referrals).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from django.core.cache import cache
from django.db.models import Max
from django.utils import timezone

# A version's result expires after this long even if the version has not moved, which
# bounds the staleness from edits the version does not see.
CACHE_SECONDS = 15 * 60
# The last result of a set of parameters is kept this long to be served while a newer
# one is computed.
LAST_SECONDS = 7 * 24 * 3600
# A refresh queued for a version is not queued again for this long (a failed task is).
QUEUED_SECONDS = 10 * 60
# From this many referrals, a network's first computation of a result runs as a task.
LARGE_NETWORK = 500_000

BUILDERS: dict[str, Callable[[object, dict], Freshness]] = {}


@dataclass
class Freshness:
    """When a cached result was computed, and whether it is older than the data."""

    computed_at: datetime.datetime | None = field(default=None, kw_only=True)
    current: bool = field(default=True, kw_only=True)


def rebuilt_in_background(name: str):
    """Register BUILDER(network, params) as the way to compute the results cached under
    NAME, so that they can be served stale while the task computes the new one."""

    def register(builder: Callable[[object, dict], Freshness]):
        BUILDERS[name] = builder
        return builder

    return register


def _version_key(network_id: int) -> str:
    return f"referrals-insights-version:{network_id}"


def bump_version(network_id: int) -> None:
    """Tell the analytics that referrals, people or milestones of a network changed (the
    newest ids catch inserts; this catches edits of existing rows)."""
    try:
        cache.incr(_version_key(network_id))
    except ValueError:
        cache.set(_version_key(network_id), 1, None)


def data_version(network_id: int) -> str:
    """What the cached analytics of a network depend on: four MAX(id) lookups (a backward
    scan of each primary key, stopping at the network's newest row)."""
    from backbone.referrals.models import Milestone, Person, Referral, ReferralEvent

    newest = [
        model.objects.filter(network_id=network_id).aggregate(top=Max("pk"))["top"] or 0
        for model in (Referral, ReferralEvent, Milestone, Person)
    ]
    return ".".join(str(n) for n in [*newest, cache.get(_version_key(network_id)) or 0])


def _base_key(network_id: int, name: str, params: dict) -> str:
    digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()
    return f"referrals-insights:{network_id}:{name}:{digest[:24]}"


def _store(base: str, version: str, value):
    if isinstance(value, Freshness):
        value = replace(value, computed_at=timezone.now(), current=True)
        cache.set(f"{base}:last", value, LAST_SECONDS)
    cache.set(f"{base}:{version}", value, CACHE_SECONDS)
    return value


def cached(network_id: int, name: str, params: dict, compute: Callable[[], object]):
    """COMPUTE's result, cached per network under the data version and PARAMS (JSON
    values). For a NAME registered with `rebuilt_in_background`, a result older than the
    data is returned (not current) while a task computes the new one."""
    base = _base_key(network_id, name, params)
    version = data_version(network_id)
    found = cache.get(f"{base}:{version}")
    if found is not None:
        return found
    if name in BUILDERS:
        last = cache.get(f"{base}:last")
        if last is not None or is_large(network_id):
            if cache.add(f"{base}:{version}:queued", True, QUEUED_SECONDS):
                from backbone.referrals.tasks import refresh_referral_insights

                refresh_referral_insights.enqueue(network_id, name, params)
                found = cache.get(f"{base}:{version}")
                if found is not None:  # a queue that runs tasks at once (tests, a shell)
                    return found
            return None if last is None else replace(last, current=False)
    return _store(base, version, compute())


def is_large(network_id: int) -> bool:
    """Whether the network has LARGE_NETWORK referrals or more (counted once an hour)."""
    from backbone.referrals.models import Referral

    key = f"referrals-insights-size:{network_id}"
    count = cache.get(key)
    if count is None:
        count = Referral.objects.filter(network_id=network_id)[:LARGE_NETWORK].count()
        cache.set(key, count, 3600)
    return count >= LARGE_NETWORK


def refresh(network_id: int, name: str, params: dict) -> None:
    """Compute and cache the result NAME of PARAMS for the network's data as it is now
    (what the task runs)."""
    from backbone.core.models import Network

    network = Network.objects.filter(pk=network_id).first()
    if network is None:
        return
    version = data_version(network_id)
    value = BUILDERS[name](network, params)
    if value is not None:  # None: what it was about is gone (a pathway deleted)
        _store(_base_key(network_id, name, params), version, value)
