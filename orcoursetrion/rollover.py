"""Term rollover: rerun many courses from one term to the next as one batch request.

Each course is an item with its own result. Steps are journaled per course, so a
rollover stopped (or killed) half way continues where it left off; GitHub pacing
slows the batch down instead of failing it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from orcoursetrion import jobs
from orcoursetrion.errors import OrcError, user_message
from orcoursetrion.lifecycle import LeaseLost, RequestType
from orcoursetrion.naming import repo_name

if TYPE_CHECKING:
    from orcoursetrion.store import RequestView
    from orcoursetrion.workflow import Workflow

log = logging.getLogger(__name__)


class BatchFailed(OrcError):
    """Some courses of a batch failed; the others are done and kept."""


class BatchStopped(OrcError):
    """Someone asked the batch to stop; Retry continues it."""


def run_rollover(wf: Workflow, req: RequestView) -> jobs.Outcome:
    term, new_term = req.params["term"], req.params["new_term"]
    items = wf.store.items(req.id)
    total = len(items)
    for item in items:
        if item.status != "pending":
            continue
        stopper = wf.store.get(req.id).stop_requested_by
        if stopper:
            finished = sum(1 for i in wf.store.items(req.id) if i.status != "pending")
            raise BatchStopped(f"Stopped by <@{stopper}> after {finished} of {total} course(s); Retry continues.")
        wf.check_lease(req.id)
        _progress(wf, req, current=item.course)
        ctx = wf.context(req, scope=item.course)
        params = {
            "course": item.course,
            "term": term,
            "new_term": new_term,
            "kind": item.kind or wf.store.course_kind(item.course),
        }
        try:
            jobs.perform(RequestType.RERUN, params, ctx)
            jobs.record(wf.store, RequestType.RERUN, params, ctx, req.id)
            new_name = repo_name(wf.settings.course_prefix, item.course, new_term).lower()
            url = next((r.html_url for r in ctx.repos if r.name.lower() == new_name), None)
            wf.store.finish_item(item.id, "done", repo_url=url)
        except LeaseLost:
            raise
        except OrcError as exc:
            wf.store.finish_item(item.id, "failed", error=user_message(exc))
        except Exception as exc:  # one broken course must not stop the batch
            log.exception("rollover %s: %s failed unexpectedly", req.id, item.course)
            wf.store.finish_item(item.id, "failed", error=user_message(exc))
    _progress(wf, req, current=None)
    items = wf.store.items(req.id)
    failed = [i for i in items if i.status == "failed"]
    done = [i for i in items if i.status == "done"]
    if failed:
        reasons = "; ".join(f"{i.course}: {i.error}" for i in failed[:10])
        more = f" (and {len(failed) - 10} more)" if len(failed) > 10 else ""
        raise BatchFailed(f"{len(failed)} of {total} course(s) failed: {reasons}{more}. Retry reruns only those.")
    repos = [{"full_name": i.course, "html_url": i.repo_url} for i in done if i.repo_url]
    return jobs.Outcome(
        f"Rolled over {len(done)} course(s) from {term} to {new_term}",
        repos=repos,
        links=[r["html_url"] for r in repos],
    )


def _progress(wf: Workflow, req: RequestView, current: str | None) -> None:
    items = wf.store.items(req.id)
    paused, why = wf.pacer.paused_for()
    wf.emit(
        "progress",
        req,
        wf.owner,
        current=current,
        done=sum(1 for i in items if i.status == "done"),
        failed=[(i.course, i.error) for i in items if i.status == "failed"],
        total=len(items),
        paused=paused,
        paused_reason=why,
    )
