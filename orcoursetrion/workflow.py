"""The request lifecycle service: the lifecycle (who may move a request where), the
runner (leases, execution, resume, shutdown) and the event bus, wired together.

The CLI, the shell, the scheduler and the Slack bot all go through one `Workflow`, which
also keeps the process's metrics (`orcoursetrion.metrics`).
"""

from __future__ import annotations

from orcoursetrion.config import Settings
from orcoursetrion.events import Event, EventBus, Listener
from orcoursetrion.jobtypes import describe
from orcoursetrion.lifecycle import Lifecycle, Status
from orcoursetrion.metrics import Metrics
from orcoursetrion.pacing import Pacer
from orcoursetrion.runner import ContextFactory, Runner
from orcoursetrion.store import RequestView, Store

__all__ = ["Event", "Workflow"]


class Workflow(Lifecycle):
    """A Lifecycle whose approved requests run on its own Runner, announced on its bus."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        owner: str | None = None,
        pacer: Pacer | None = None,
        context_factory: ContextFactory | None = None,
    ) -> None:
        bus = EventBus()
        self.metrics = Metrics()
        self.runner = Runner(settings, store, bus, owner, pacer, context_factory, self.metrics.github_request)
        super().__init__(settings, store, bus, self.runner.start, describe)
        bus.subscribe(self.metrics.on_event, "metrics")
        self.metrics.watch_pacer(self.runner.pacer)
        self.metrics.watch_scheduled(store)

    @property
    def owner(self) -> str:
        return self.runner.owner

    @property
    def pacer(self) -> Pacer:
        return self.runner.pacer

    def subscribe(self, listener: Listener, name: str | None = None) -> None:
        self.bus.subscribe(listener, name)

    def run_now(self, req_id: int) -> RequestView:
        return self.runner.run_now(req_id)

    def resume_one(self, req_id: int, actor: str) -> bool:
        """Continue one unfinished request in this thread (the CLI run again): a failed one
        is retried, an abandoned in-progress one taken over. False if it runs elsewhere."""
        req = self.store.get(req_id)
        if req.state == Status.FAILED:
            self.reapprove(req_id, actor)
            self.runner.run_now(req_id)
            return True
        if req.state == Status.IN_PROGRESS:
            return self.runner.take_over_now(req_id)
        if req.state == Status.APPROVED:
            self.runner.run_now(req_id)
            return True
        return False

    def start_background(self, sweep_seconds: float | None = None) -> None:
        self.runner.start_background(sweep_seconds)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        return self.runner.wait_idle(timeout)

    def shutdown(self, grace: float = 10.0) -> bool:
        stopped = self.runner.shutdown(grace)
        self.bus.close()
        return stopped
