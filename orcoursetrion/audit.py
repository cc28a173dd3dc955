"""The audit trail as people and tools read it: every transition, note and GitHub change of
a request (who, what, when), each GitHub change with the web address where it can be seen.

The events come from `audit_events`; the addresses from the step journal, whose rows name
the GitHub object (`org/repo`, `org/team`, `org/repo#hook`…) and keep GitHub's answer (ids,
commit shas). Secrets never appear: the store masks them when it writes, and everything
is masked again on the way out.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from orcoursetrion.changes import change_url, object_of
from orcoursetrion.redact import redact
from orcoursetrion.store import EventView, JournalView, RequestView, Store

FIELDS = ("at", "request_id", "request", "actor", "kind", "event", "detail", "url")


@dataclass(frozen=True)
class AuditEntry:
    """One line of the trail; `url` is set on GitHub changes."""

    at: datetime
    request_id: int | None
    request: str | None
    actor: str
    kind: str
    event: str
    detail: str | None
    url: str | None = None

    @property
    def is_github_change(self) -> bool:
        return self.kind == "github"


def trail(
    store: Store, web: str, request_id: int | None = None, since: datetime | None = None
) -> tuple[list[AuditEntry], dict[int, RequestView]]:
    """The trail (one request's, or every request's since `since`) and the requests it names.

    `web` is GitHub's web address (`changes.web_base`). An unknown request raises
    RequestNotFound."""
    if request_id is not None:
        store.get(request_id)
    events = store.audit_events(request_id, since)
    ids = {e.request_id for e in events if e.request_id is not None}
    requests = store.requests_by_id(ids)
    urls = github_urls(events, store.journal(ids), web)
    entries = [
        AuditEntry(
            at=e.at,
            request_id=e.request_id,
            request=requests[e.request_id].summary if e.request_id in requests else None,
            actor=e.actor,
            kind=e.kind,
            event=e.name,
            detail=redact(e.detail) if e.detail else None,
            url=urls.get(e.id),
        )
        for e in events
    ]
    return entries, requests


def github_changes(store: Store, web: str, request_id: int) -> list[AuditEntry]:
    """The GitHub changes one request made, oldest first, each with its address."""
    entries, _ = trail(store, web, request_id)
    return [e for e in entries if e.is_github_change]


def github_urls(events: Iterable[EventView], journal: Iterable[JournalView], web: str) -> dict[int, str]:
    """Audit event id -> address, for each GitHub change (`done:OP` event) in `events`.

    A change's event and its journal row are written in one transaction with the same
    time, which pairs them; a row touched again later (a Retry marks finished steps once
    more) is paired by the object its text names, else by order."""
    free: dict[tuple[int, str], list[JournalView]] = {}
    for row in journal:
        if row.state == "done" and row.op:
            free.setdefault((row.request_id, row.op), []).append(row)
    out: dict[int, str] = {}
    for event in events:
        if event.kind != "github" or not event.name.startswith("done:") or event.request_id is None:
            continue
        rows = free.get((event.request_id, event.name[5:]), [])
        row = next((r for r in rows if r.at == event.at), None)
        row = row or next((r for r in rows if _object(r) in (event.detail or "")), None)
        row = row or (rows[0] if rows else None)
        if row is None:
            continue
        rows.remove(row)
        url = change_url(web, row.op, _target(row), row.evidence)
        if url:
            out[event.id] = redact(url)
    return out


def _target(row: JournalView) -> str:
    """The object a journal key names (keys are `scope|op|target`)."""
    return row.key.split("|", 2)[-1]


def _object(row: JournalView) -> str:
    """The repo or team part of a target, as change texts spell it."""
    return object_of(_target(row))


# -- output ---------------------------------------------------------------------------------------


def when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def as_text(entries: list[AuditEntry], requests: dict[int, RequestView]) -> str:
    """Grouped by request (in the order they first appear): a heading with what was asked,
    by whom and where it stands, then one line per event (when, kind, what, who), each
    GitHub change with its address on the next line."""
    groups: dict[int | None, list[AuditEntry]] = {}
    for entry in entries:
        groups.setdefault(entry.request_id, []).append(entry)
    blocks = []
    for request_id, group in groups.items():
        lines = [_heading(requests.get(request_id), request_id)]
        for entry in group:
            if entry.is_github_change:
                what = entry.detail or entry.event
            else:
                what = f"{entry.event}: {entry.detail}" if entry.detail else entry.event
            lines.append(f"  {when(entry.at)}  {entry.kind:<10}  {what}  (by {entry.actor})")
            if entry.url:
                lines.append(f"  {'':<23}  {'':<10}  {entry.url}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _heading(req: RequestView | None, request_id: int | None) -> str:
    if req is None:
        return "Not tied to a request:" if request_id is None else f"Request #{request_id} (no longer recorded):"
    return (
        f"Request #{req.id} — {req.summary} — {req.state.label}; requested by {req.requester} on {when(req.created_at)}"
    )


def as_rows(entries: list[AuditEntry]) -> list[dict]:
    rows = []
    for entry in entries:
        row = asdict(entry)
        row["at"] = entry.at.astimezone(UTC).isoformat()
        rows.append({key: row[key] for key in FIELDS})
    return rows


def as_csv(entries: list[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(as_rows(entries))
    return out.getvalue()


def as_json(entries: list[AuditEntry]) -> str:
    return json.dumps(as_rows(entries), indent=2, ensure_ascii=False)
