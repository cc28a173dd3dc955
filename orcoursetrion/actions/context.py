"""Contexts an action runs in: live (changes GitHub, journaled) or a plan (reads only)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from orcoursetrion import config
from orcoursetrion.config import NO_CREDENTIALS, Settings, load_settings
from orcoursetrion.errors import ConfigError
from orcoursetrion.ghapp import GitHubApp, shared_app
from orcoursetrion.github import API_VERSION, GitHub
from orcoursetrion.journal import Journal, MemoryJournal
from orcoursetrion.operations import Context, StepListener, World
from orcoursetrion.pacing import Pacer

if TYPE_CHECKING:
    from orcoursetrion.store import Store

_pacers: dict[tuple, Pacer] = {}
_places: dict[int, threading.BoundedSemaphore] = {}
_pacers_lock = threading.Lock()


def _process_places(max_concurrent: int) -> threading.BoundedSemaphore:
    """The process's cap on GitHub requests in flight, whichever budget they use."""
    with _pacers_lock:
        if max_concurrent not in _places:
            _places[max_concurrent] = threading.BoundedSemaphore(max_concurrent)
        return _places[max_concurrent]


def shared_pacer(settings: Settings, store: Store | None = None) -> Pacer:
    """The pacer for this configuration. With a `store`, its write budget is the store's,
    shared by every process on it (bot replicas, CLI commands); without one (0.2.1-style
    library calls, dry runs) it is this process's. Either way the concurrency cap is the
    process's."""
    places = _process_places(settings.gh_max_concurrent)
    limits = (settings.gh_writes_per_minute, settings.gh_writes_per_hour, settings.gh_max_concurrent)
    if store is not None:
        from orcoursetrion.store.budget import StoreBucket, budget_key

        bucket = StoreBucket(store, budget_key(settings.gh_api_url))
        return Pacer(*limits, burst=settings.gh_write_burst, bucket=bucket, places=places)
    key = (*limits, settings.gh_write_burst)
    with _pacers_lock:
        if key not in _pacers:
            _pacers[key] = Pacer(*limits, burst=settings.gh_write_burst, places=places)
        return _pacers[key]


def github_app(settings: Settings) -> GitHubApp | None:
    """The process's GitHub App client when the App is configured (and no token is)."""
    if settings.gh_token or not settings.gh_app:
        return None
    assert settings.gh_app_id is not None and settings.gh_app_private_key is not None
    return shared_app(
        settings.gh_api_url,
        settings.gh_app_id,
        settings.gh_app_private_key,
        settings.gh_app_installation_id,
        settings.gh_timeout,
        API_VERSION,
    )


def github_client(settings: Settings, pacer: Pacer | None = None, stop: threading.Event | None = None) -> GitHub:
    """A client acting with the token, or as the GitHub App; the process's one pacer."""
    gh = GitHub(
        settings.gh_api_url,
        settings.gh_token,
        pacer or shared_pacer(settings),
        timeout=settings.gh_timeout,
        max_retries=settings.gh_max_retries,
        app=github_app(settings),
        orgs=(settings.xml_org, settings.studio_org),
    )
    gh.stop = stop
    return gh


def live_context(
    settings: Settings | None = None,
    journal: Journal | None = None,
    on_step: StepListener | None = None,
    pacer: Pacer | None = None,
    scope: str = "",
    stop: threading.Event | None = None,
) -> Context:
    """Changes GitHub; refuses to start without credentials (no request is made)."""
    settings = settings or load_settings()
    if not settings.gh_configured:
        raise ConfigError([NO_CREDENTIALS])
    world = World(settings, github_client(settings, pacer, stop))
    return Context(settings, world, True, journal or MemoryJournal(), scope, on_step)


def plan_context(
    settings: Settings | None = None, pacer: Pacer | None = None, journal: Journal | None = None
) -> Context:
    """Changes nothing; reads GitHub to make the plan exact when credentials are configured."""
    settings = settings or load_settings()
    world = World(settings, github_client(settings, pacer) if settings.gh_configured else None)
    return Context(settings, world, False, journal or MemoryJournal())


def dry_context(
    settings: Settings,
    journal: Journal | None = None,
    on_step: StepListener | None = None,
    pacer: Pacer | None = None,
    scope: str = "",
    stop: threading.Event | None = None,
) -> Context:
    """A run with no GitHub to change (no credentials): the request walks its whole flow, and its
    outcome is the plan it would have carried out."""
    return Context(settings, World(settings, None), False, MemoryJournal(), scope, on_step)


def default_context(ctx: Context | None) -> Context:
    """The context a library call without one runs in, as in 0.2.1: live, with the
    environment's settings and every `orcoursetrion.config.ORC_*` attribute the script
    assigned, read now (at call time)."""
    return ctx if ctx is not None else live_context(config.library_settings())
