"""Term rollover, a batch job type: rerun many courses from one term to the next.

Each course is an item with its own result. A few courses run side by side
(ORC_ROLLOVER_CONCURRENCY) so that GitHub's write limit, not latency, sets the pace.
Each course's steps are journaled under its own scope, so a rollover stopped (or
killed) half way continues where it left off, and Retry reruns only the failed ones.
A batch ends Completed only when every course is done.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from orcoursetrion import jobs
from orcoursetrion.errors import Interrupted, OrcError, ShuttingDown, user_message
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.naming import repo_name

if TYPE_CHECKING:
    from orcoursetrion.runner import JobRun
    from orcoursetrion.store import ItemView

log = logging.getLogger(__name__)


class BatchFailed(OrcError):
    """Some courses of a batch failed; the others are done and kept."""


class BatchStopped(OrcError):
    """Someone asked the batch to stop; Retry continues it."""


class _Batch:
    """One run of a rollover request: which courses are under way, and reporting."""

    def __init__(self, run: JobRun) -> None:
        self.run = run
        self.term, self.new_term = run.request.params["term"], run.request.params["new_term"]
        self.current: list[str] = []
        self.lock = threading.Lock()

    def rerun(self, item: ItemView) -> None:
        """One course, recorded as done or failed; only an interruption escapes."""
        run, store = self.run, self.run.store
        with self.lock:
            self.current.append(item.course)
        self.progress()
        params = {
            "course": item.course,
            "term": self.term,
            "new_term": self.new_term,
            "kind": item.kind or store.course_kind(item.course),
        }
        try:
            ctx = run.context(scope=item.course)
            jobs.RERUN.act(params, ctx)
            jobs.record_rerun(store, params, ctx, run.request.id)
            new_name = repo_name(run.settings.course_prefix, item.course, self.new_term).lower()
            url = next((ctx.world.repo_json(r)["html_url"] for r in ctx.touched if r.name.lower() == new_name), None)
            store.finish_item(item.id, "done", repo_url=url)
        except OrcError as exc:
            store.finish_item(item.id, "failed", error=user_message(exc))
        except Interrupted:
            raise
        except Exception as exc:  # one broken course must not stop the batch
            log.exception("rollover %s: %s failed unexpectedly", run.request.id, item.course)
            store.finish_item(item.id, "failed", error=user_message(exc))
        finally:
            with self.lock:
                self.current.remove(item.course)

    def progress(self) -> None:
        items = self.run.store.items(self.run.request.id)
        paused, why = self.run.runner.pacer.paused_for()
        with self.lock:
            current = ", ".join(self.current) or None
        self.run.emit(
            "progress",
            current=current,
            done=sum(1 for i in items if i.status == "done"),
            failed=[(i.course, i.error) for i in items if i.status == "failed"],
            total=len(items),
            paused=paused,
            paused_reason=why,
        )

    def stopper(self) -> str | None:
        return self.run.store.get(self.run.request.id).stop_requested_by


def run_rollover(run: JobRun) -> jobs.Outcome:
    batch = _Batch(run)
    store, req = run.store, run.request
    items = store.items(req.id)
    pending = [i for i in items if i.status == "pending"]
    total = len(items)
    width = run.settings.rollover_concurrency
    running: set[Future] = set()
    stopped_by = None
    with ThreadPoolExecutor(max_workers=width, thread_name_prefix=f"orc-batch-{req.id}") as pool:
        try:
            while pending or running:
                while pending and len(running) < width and not stopped_by:
                    stopped_by = batch.stopper()
                    if stopped_by:
                        break
                    run.check()
                    running.add(pool.submit(batch.rerun, pending.pop(0)))
                if not running:
                    break
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()  # an interruption (lost lease, shutdown) stops the batch here
                batch.progress()
        except BaseException:
            for future in running:
                future.cancel()
            raise
    items = store.items(req.id)
    if stopped_by:
        finished = sum(1 for i in items if i.status != "pending")
        raise BatchStopped(f"Stopped by <@{stopped_by}> after {finished} of {total} course(s); Retry continues.")
    failed = [i for i in items if i.status == "failed"]
    left = [i for i in items if i.status == "pending"]
    if left:
        if run.stopping:
            raise ShuttingDown(req.id)
        raise BatchFailed(
            f"{len(left)} of {total} course(s) were not run ({', '.join(i.course for i in left[:10])}); Retry runs them."
        )
    if failed:
        reasons = "; ".join(f"{i.course}: {i.error}" for i in failed[:10])
        more = f" (and {len(failed) - 10} more)" if len(failed) > 10 else ""
        raise BatchFailed(f"{len(failed)} of {total} course(s) failed: {reasons}{more}. Retry reruns only those.")
    done = [i for i in items if i.status == "done"]
    repos = [{"full_name": i.course, "html_url": i.repo_url} for i in done if i.repo_url]
    return jobs.Outcome(
        f"Rolled over {len(done)} course(s) from {req.params['term']} to {req.params['new_term']}",
        repos=repos,
        links=[r["html_url"] for r in repos],
    )


def _describe(params: dict) -> str:
    return f"Roll over {len(params.get('courses') or [])} course(s) {params['term']} → {params['new_term']}"


ROLLOVER = jobs.JobType(RequestType.ROLLOVER, _describe, run=run_rollover)
