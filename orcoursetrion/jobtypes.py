"""Every job type by name: the single-run types and the batch rollover."""

from __future__ import annotations

from orcoursetrion import jobs, rollover

JOB_TYPES: dict[str, jobs.JobType] = {t.name: t for t in (*jobs.SINGLE, rollover.ROLLOVER)}


def describe(type: str, params: dict) -> str:
    """A one-line summary of a request, for lists, titles and tickets."""
    job = JOB_TYPES.get(type)
    return job.describe(params) if job else type
