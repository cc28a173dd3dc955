"""Term rollover: rerun many courses from one term to the next as one batch request.

Each course is an item with its own result. A few courses run side by side
(ORC_ROLLOVER_CONCURRENCY) so that GitHub's write limit, not latency, sets the pace;
the shared pacer keeps every write under the secondary limits. Steps are journaled per
course, so a rollover stopped (or killed) half way continues where it left off.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from orcoursetrion import jobs
from orcoursetrion.errors import OrcError, user_message
from orcoursetrion.lifecycle import LeaseLost, RequestType, ShuttingDown
from orcoursetrion.naming import repo_name

if TYPE_CHECKING:
    from orcoursetrion.store import ItemView, RequestView
    from orcoursetrion.workflow import Workflow

log = logging.getLogger(__name__)


class BatchFailed(OrcError):
    """Some courses of a batch failed; the others are done and kept."""


class BatchStopped(OrcError):
    """Someone asked the batch to stop; Retry continues it."""


class _Batch:
    """One run of a rollover request: which courses are under way, and reporting."""

    def __init__(self, wf: Workflow, req: RequestView) -> None:
        self.wf, self.req = wf, req
        self.term, self.new_term = req.params["term"], req.params["new_term"]
        self.current: list[str] = []
        self.lock = threading.Lock()

    def rerun(self, item: ItemView) -> None:
        """One course, recorded as done or failed; only a lost lease escapes."""
        wf = self.wf
        with self.lock:
            self.current.append(item.course)
        self.progress()
        ctx = wf.context(self.req, scope=item.course)
        params = {
            "course": item.course,
            "term": self.term,
            "new_term": self.new_term,
            "kind": item.kind or wf.store.course_kind(item.course),
        }
        try:
            jobs.perform(RequestType.RERUN, params, ctx)
            jobs.record(wf.store, RequestType.RERUN, params, ctx, self.req.id)
            new_name = repo_name(wf.settings.course_prefix, item.course, self.new_term).lower()
            url = next((r.html_url for r in ctx.repos if r.name.lower() == new_name), None)
            wf.store.finish_item(item.id, "done", repo_url=url)
        except LeaseLost:
            raise
        except OrcError as exc:
            wf.store.finish_item(item.id, "failed", error=user_message(exc))
        except Exception as exc:  # one broken course must not stop the batch
            log.exception("rollover %s: %s failed unexpectedly", self.req.id, item.course)
            wf.store.finish_item(item.id, "failed", error=user_message(exc))
        finally:
            with self.lock:
                self.current.remove(item.course)

    def progress(self) -> None:
        items = self.wf.store.items(self.req.id)
        paused, why = self.wf.pacer.paused_for()
        with self.lock:
            current = ", ".join(self.current) or None
        self.wf.emit(
            "progress",
            self.req,
            self.wf.owner,
            current=current,
            done=sum(1 for i in items if i.status == "done"),
            failed=[(i.course, i.error) for i in items if i.status == "failed"],
            total=len(items),
            paused=paused,
            paused_reason=why,
        )

    def stopper(self) -> str | None:
        return self.wf.store.get(self.req.id).stop_requested_by


def run_rollover(wf: Workflow, req: RequestView) -> jobs.Outcome:
    batch = _Batch(wf, req)
    items = wf.store.items(req.id)
    pending = [i for i in items if i.status == "pending"]
    total = len(items)
    running: set[Future] = set()
    stopped_by = None
    with ThreadPoolExecutor(max_workers=wf.settings.rollover_concurrency, thread_name_prefix="orc-batch") as pool:
        try:
            while pending or running:
                while pending and len(running) < wf.settings.rollover_concurrency and not stopped_by:
                    stopped_by = batch.stopper()
                    if stopped_by:
                        break
                    wf.check_lease(req.id)
                    if wf.stopping:
                        raise ShuttingDown(req.id)
                    running.add(pool.submit(batch.rerun, pending.pop(0)))
                if not running:
                    break
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()  # a lost lease stops the batch here
                batch.progress()
        except BaseException:
            for future in running:
                future.cancel()
            raise
    if stopped_by:
        finished = sum(1 for i in wf.store.items(req.id) if i.status != "pending")
        raise BatchStopped(f"Stopped by <@{stopped_by}> after {finished} of {total} course(s); Retry continues.")
    items = wf.store.items(req.id)
    failed = [i for i in items if i.status == "failed"]
    done = [i for i in items if i.status == "done"]
    if failed:
        reasons = "; ".join(f"{i.course}: {i.error}" for i in failed[:10])
        more = f" (and {len(failed) - 10} more)" if len(failed) > 10 else ""
        raise BatchFailed(f"{len(failed)} of {total} course(s) failed: {reasons}{more}. Retry reruns only those.")
    repos = [{"full_name": i.course, "html_url": i.repo_url} for i in done if i.repo_url]
    return jobs.Outcome(
        f"Rolled over {len(done)} course(s) from {req.params['term']} to {req.params['new_term']}",
        repos=repos,
        links=[r["html_url"] for r in repos],
    )
