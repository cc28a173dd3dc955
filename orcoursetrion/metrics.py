"""Prometheus metrics of one process (`GET /metrics`): requests by type and final status,
step durations, GitHub requests, write-budget waits, the Zendesk outbox, scheduled tasks due.

Each `Metrics` has its own registry, so several services in one process (tests) never
count into each other. Counters are fed by the event bus and by the GitHub client's
`on_request` hook; gauges that live in the store or the pacer are read at scrape time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from orcoursetrion.events import Event

log = logging.getLogger(__name__)

CONTENT_TYPE = CONTENT_TYPE_LATEST
FINAL = ("completed", "failed", "rejected", "cancelled")
STEP_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)


class _ScrapeTime(Collector):
    """Metrics computed when scraped, from functions that may fail (a down store):
    a failing source is left out of that scrape, never failing the others."""

    def __init__(self) -> None:
        self.sources: list[Callable[[], Iterable]] = []

    def collect(self):
        for source in list(self.sources):
            try:
                yield from source()
            except Exception:
                log.warning("metrics source %s failed", getattr(source, "__name__", source), exc_info=True)


class Metrics:
    """The metrics of one service; `on_event` is its event-bus listener."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "orc_requests", "Requests reaching a final status", ["type", "status"], registry=self.registry
        )
        self.step_duration = Histogram(
            "orc_step_duration_seconds",
            "Time a runner's step took, by operation",
            ["step"],
            buckets=STEP_BUCKETS,
            registry=self.registry,
        )
        self.github_requests = Counter(
            "orc_github_requests",
            "GitHub REST requests by method and status (2xx, a code, or no_answer)",
            ["method", "status"],
            registry=self.registry,
        )
        self._scrape = _ScrapeTime()
        self.registry.register(self._scrape)
        self._extra: dict[str, Counter] = {}
        self._lock = threading.Lock()

    # -- feeding ---------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """Final statuses and step timings, from the lifecycle's events."""
        req = event.request
        if event.kind in FINAL:
            self.requests.labels(req.type, event.kind).inc()
        elif event.kind == "step" and event.data.get("seconds") is not None:
            self.step_duration.labels(event.data.get("op") or "step").observe(event.data["seconds"])

    def github_request(self, method: str, status: str) -> None:
        """The GitHub client's `on_request` hook: one call per HTTP request sent."""
        self.github_requests.labels(method, status).inc()

    def counter(self, name: str, documentation: str, labels: list[str]) -> Counter:
        """A counter of this registry, made on first use (the bot's own, like Slack errors)."""
        with self._lock:
            if name not in self._extra:
                self._extra[name] = Counter(name, documentation, labels, registry=self.registry)
            return self._extra[name]

    def scrape_time(self, source: Callable[[], Iterable]) -> None:
        """Add a function yielding metric families, called at each scrape."""
        self._scrape.sources.append(source)

    def watch_pacer(self, pacer) -> None:
        """Write-budget waits, read from the pacer's `stats` when scraped."""

        def budget():
            stats = pacer.stats
            yield CounterMetricFamily(
                "orc_github_write_budget_waits", "Times a GitHub request waited for the write budget", stats.waits
            )
            yield CounterMetricFamily(
                "orc_github_write_budget_wait_seconds",
                "Seconds GitHub requests spent waiting for the write budget",
                stats.waited_seconds,
            )

        self.scrape_time(budget)

    def watch_scheduled(self, store) -> None:
        """Scheduled tasks whose time has come and that nobody claimed yet (one count query)."""

        def due():
            yield GaugeMetricFamily(
                "orc_scheduled_tasks_due", "Scheduled tasks due and not yet claimed", store.count_due_tasks()
            )

        self.scrape_time(due)

    def watch_outbox(self, outbox) -> None:
        """Zendesk ticket work queued and not yet delivered."""

        def depth():
            yield GaugeMetricFamily(
                "orc_zendesk_outbox_depth", "Zendesk ticket updates waiting", outbox.stats().pending
            )

        self.scrape_time(depth)

    def render(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)
