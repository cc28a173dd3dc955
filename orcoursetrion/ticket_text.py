"""What a request's Zendesk ticket says, as pure functions: the ticket itself (subject,
description, tags), the comment for each lifecycle event, and the instructions for the
steps the bot cannot do itself. Everything returned is already redacted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from orcoursetrion.actions import STUDIO, XML
from orcoursetrion.config import Settings
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.naming import repo_name
from orcoursetrion.redact import redact, redact_url
from orcoursetrion.store import ItemView, RequestView, RunView
from orcoursetrion.times import local_text

TAG = "orcoursetrion"
APPROVE_TAG, REJECT_TAG = "orc_approve", "orc_reject"
ZENDESK_ACTOR = "zendesk:ticket/"
MAX_PLAN_LINES = 200
MAX_BODY = 60_000  # Zendesk refuses comments over 64 KB

Names = Callable[[str], str | None]


@dataclass(frozen=True)
class Note:
    """One ticket comment: public (the requester gets it) or an internal note for agents;
    `status` also moves the ticket (``solved``)."""

    body: str
    public: bool = True
    status: str | None = None

    def as_payload(self) -> dict:
        return {"body": redact(self.body)[:MAX_BODY], "public": self.public, "status": self.status}


def external_id(request_id: int) -> str:
    return f"orc-request-{request_id}"


def zendesk_actor(ticket_id: int | None) -> str:
    return f"{ZENDESK_ACTOR}{ticket_id if ticket_id is not None else 'unknown'}"


def who(actor: str | None, names: Names | None = None) -> str:
    """A person as a Zendesk agent reads them: a name, not a bare Slack id."""
    if not actor:
        return "someone"
    if actor.startswith(ZENDESK_ACTOR):
        return f"a Zendesk agent (ticket #{actor[len(ZENDESK_ACTOR) :]})"
    if actor.startswith("cli:"):
        return f"{actor[4:]} (command line)"
    name = None
    if names is not None:
        try:
            name = names(actor)
        except Exception:  # a name is a nicety; never fail a ticket for it
            name = None
    return f"{name} (Slack {actor})" if name else f"Slack user {actor}"


def subject(req: RequestView) -> str:
    """The request's one-line summary: type, course and term (`Rerun 8.01r Fall_2030 → Spring_2031`)."""
    return redact(req.summary)[:150]


def tags(req: RequestView) -> list[str]:
    return [TAG, f"orc_{req.type}"]


def description(req: RequestView, names: Names | None = None, webhook: bool = False) -> str:
    """The ticket's first comment: who asked, when, the needed-by date and the plan."""
    if req.channel == "shell":
        asked = f"{req.requester} (local shell)"
    elif req.requester_name:
        asked = f"{req.requester_name} ({_origin(req)})"
    else:
        asked = who(req.requester, names)
    lines = [
        f"{req.summary} (request #{req.id})",
        "",
        f"Requested by {asked} on {req.created_at:%Y-%m-%d %H:%M} UTC.",
        f"Needed by: {req.desired_at:%Y-%m-%d}." if req.desired_at else "Needed by: no date given.",
    ]
    plan = list(req.plan or [])
    if plan:
        lines += ["", "Plan (the GitHub changes, as the approver sees them):"]
        lines += [f"{n}. {step}" for n, step in enumerate(plan[:MAX_PLAN_LINES], 1)]
        if len(plan) > MAX_PLAN_LINES:
            lines.append(f"… and {len(plan) - MAX_PLAN_LINES} more (see /orc status {req.id} in Slack).")
    lines += ["", f"Follow it in Slack with /orc status {req.id}."]
    if webhook:
        lines.append(
            f"Agents can decide here: add the tag {APPROVE_TAG} to approve, or {REJECT_TAG} with the reason "
            "as your comment to reject."
        )
    return redact("\n".join(lines))[:MAX_BODY]


def _origin(req: RequestView) -> str:
    if req.requester.startswith("cli:"):
        return "command line"
    return f"Slack {req.requester}"


def event_notes(
    kind: str,
    req: RequestView,
    actor: str | None,
    text: str | None,
    data: dict,
    names: Names | None = None,
    webhook: bool = False,
) -> list[Note]:
    """The comments one lifecycle event adds to the ticket (none for most step events)."""
    rid = req.id
    if kind == "pending_approval":
        how = f"Approvers decide in Slack (Approve / Reject on the request, or /orc approve {rid})"
        how += (
            f", or here: add the tag {APPROVE_TAG}, or {REJECT_TAG} with the reason as your comment."
            if webhook
            else "."
        )
        return [Note(f"Confirmed by {who(actor, names)}. Waiting for an approver.\n{how}", public=False)]
    if kind == "scheduled":
        at = local_text(req.scheduled_for, (req.params.get("schedule") or {}).get("tz"))
        return [Note(f"Scheduled by {who(actor, names)} for {at}; the plan is checked again when it starts.")]
    if kind == "approved":
        if data.get("scheduled"):
            return [Note("Its scheduled time came; the work starts now." + (f" {text}" if text else ""))]
        if data.get("retry"):
            return [Note(f"Retry requested by {who(actor, names)}; the finished steps are skipped.", public=False)]
        if data.get("auto"):
            return [Note(f"Confirmed by {who(actor, names)}; no approval needed. The work starts now.")]
        return [Note(f"Approved by {who(actor, names)}. The work starts now.")]
    if kind == "started":
        return [Note(f"Work started (attempt {req.attempts}).", public=False)]
    if kind == "resumed":
        return [Note(f"Work resumed after an interruption (attempt {req.attempts}).", public=False)]
    if kind == "stopping":
        return [Note(f"Stop requested by {who(actor, names)}; the batch stops after the current course.", public=False)]
    if kind == "failed":
        step = data.get("step") or req.error_step
        where = f" at {step}" if step else ""
        return [
            Note(
                f"Failed{where}: {req.error or text or 'unknown error'}\n"
                "The finished steps are kept. Retry is available and continues from here: the Retry button "
                f"on the request in Slack, /orc retry {rid}, or the same command again on the command line."
            )
        ]
    if kind == "rejected":
        return [Note(f"Rejected by {who(actor, names)}: {req.reason or text or 'no reason given'}", status="solved")]
    if kind == "cancelled":
        return [Note(f"Cancelled by {who(actor, names)}; nothing more will be done.", status="solved")]
    return []


def completed_notes(
    req: RequestView,
    settings: Settings,
    runs: dict[tuple[str, str], RunView],
    items: list[ItemView] | None = None,
) -> list[Note]:
    """On completion: the steps left to people (an internal note), then the result with
    every repository URL, solving the ticket."""
    notes = []
    steps = manual_steps(req, settings, runs, items)
    if steps:
        body = "Steps orcoursetrion cannot do itself, for the agent:\n" + "\n".join(
            f"{n}. {step}" for n, step in enumerate(steps, 1)
        )
        notes.append(Note(body, public=False))
    result = req.result or {}
    lines = [f"Done: {result.get('message') or req.summary}."]
    links = list(result.get("links") or [])
    if links:
        lines += ["", "Repositories:"] + [redact_url(link) for link in links]
    notes.append(Note("\n".join(lines), status="solved"))
    return notes


# -- the steps left to people ------------------------------------------------------------------


def _git_url(html_url: str | None) -> str:
    """`https://github.mit.edu/mitx/repo` -> `git@github.mit.edu:mitx/repo.git` (what the LMS clones)."""
    if not html_url:
        return "(the repository's SSH clone URL)"
    parts = urlsplit(redact_url(html_url))
    return f"git@{parts.hostname}:{parts.path.strip('/')}.git"


def _roles(
    course: str, term: str, members: tuple[str, ...] | list[str] | None, kind: str | None, since: str | None = None
) -> str:
    where = (
        "Studio → Settings → Course Team" if kind == STUDIO else "the LMS Instructor dashboard → Membership"
    ) + f" of {course} {term}"
    if members:
        return (
            f"Course team roles: in {where}, give the course team their roles (Staff, or Admin for the instructors). "
            f"Their GitHub logins on the repository team: {', '.join(members)} — look up their MIT accounts."
        )
    if since:
        return (
            f"Course team roles: the repository team carries over {since}'s members; in {where}, give the same "
            f"people the roles they have in {course} {since}."
        )
    return f"Course team roles: in {where}, check the course team (nobody was named for the repository team)."


def _lms_import(git: str, branch: str, course: str, term: str, production: bool = False) -> str:
    lms = "production LMS" if production else "LMS"
    return (
        f"Import {course} {term} into the {lms}: on its sysadmin dashboard (/sysadmin → Courses) use "
        f"“Load new course from github” with {git} (branch {branch}). Later pushes reload it through the "
        f"{'production' if production else 'staging'} gitreload hook."
    )


def _studio_export(git: str, course: str, term: str) -> str:
    return (
        f"Connect Studio's export for {course} {term}: Studio → Settings → Advanced Settings → “Git URL”: {git}; "
        "then Tools → Export to Git once."
    )


def manual_steps(
    req: RequestView,
    settings: Settings,
    runs: dict[tuple[str, str], RunView],
    items: list[ItemView] | None = None,
) -> list[str]:
    """Exact instructions for what only an agent can do: the LMS import, Studio's runs and
    dates, the course team roles. `runs` are the store's runs the request touched."""
    params = req.params or {}
    kind_of = _kind_and_params(req.type, params)
    if kind_of is None:
        return []
    job, p = kind_of
    course, term = p.get("course"), p.get("term")

    def run(t: str | None) -> RunView | None:
        return runs.get((course, t)) if course and t else None

    def repo_url(t: str | None, kind: str | None) -> str:
        found = run(t)
        if found is not None:
            return found.repo_url
        org = settings.studio_org if kind == STUDIO else settings.xml_org
        links = [
            u
            for u in (req.result or {}).get("links") or []
            if u.rstrip("/").lower().endswith("/" + repo_name(settings.course_prefix, course, t).lower())
        ]
        return links[0] if links else f"{org}/{repo_name(settings.course_prefix, course, t)}"

    if job == RequestType.ROLLOVER:
        steps = []
        for item in items or []:
            if item.status != "done":
                continue
            new = p["new_term"]
            found = runs.get((item.course, new))
            kind = found.kind if found else item.kind
            git = _git_url(item.repo_url)
            steps += _rerun_steps(kind, item.course, p["term"], new, git, found.members if found else ())
        return steps
    kind = p.get("kind") or (run(term).kind if run(term) else None)
    if job == RequestType.NEW:
        git = _git_url(repo_url(term, kind))
        members = p.get("members") or (run(term).members if run(term) else ())
        if kind == STUDIO:
            return [
                f"Create the course in Studio: New Course with Organization MITx, Course Number {course}, "
                f"Course Run {term}.",
                _studio_export(git, course, term),
                "Set its dates in Studio → Settings → Schedule & Details (course and enrollment start/end).",
                _roles(course, term, members, STUDIO),
            ]
        return [_lms_import(git, "master", course, term), _roles(course, term, members, XML)]
    if job == RequestType.RERUN:
        new = p["new_term"]
        new_kind = kind or (run(new).kind if run(new) else None)
        git = _git_url(repo_url(new, new_kind))
        members = p.get("members") or (run(new).members if run(new) else ())
        return _rerun_steps(new_kind, course, term, new, git, members)
    if job == RequestType.RELEASE:
        git = _git_url(repo_url(term, kind))
        branch = "live" if kind != STUDIO else "master"
        return [_lms_import(git, branch, course, term, production=True)]
    if job == RequestType.TEAM:
        return [_roles(course, term, p.get("members"), kind)]
    return []


def _rerun_steps(kind: str | None, course: str, term: str, new: str, git: str, members) -> list[str]:
    if kind == STUDIO:
        return [
            f"Rerun the course in Studio: open {course} {term} → Re-run Course, with Course Run {new}.",
            _studio_export(git, course, new),
            f"Set the dates of {course} {new} in Studio → Settings → Schedule & Details (course and enrollment "
            f"start/end); the rerun starts with {term}'s dates.",
            _roles(course, new, members, STUDIO, since=term),
        ]
    return [
        _lms_import(git, "master", course, new),
        f"Set the dates of {course} {new}: the new repository keeps {term}'s dates — edit start/end (and the "
        f'enrollment dates) under "course/{new}" in policies/{new}/policy.json, or in Studio → Settings → '
        "Schedule & Details once the run is imported there.",
        _roles(course, new, members, XML, since=term),
    ]


# What each original CLI action amounts to, for its instructions.
_ACTION_JOBS = {
    "create_xml_repo": (RequestType.NEW, XML),
    "create_export_repo": (RequestType.NEW, STUDIO),
    "rerun_xml_course": (RequestType.RERUN, XML),
    "rerun_studio": (RequestType.RERUN, STUDIO),
    "release_xml": (RequestType.RELEASE, XML),
    "release_studio": (RequestType.RELEASE, STUDIO),
}


def _kind_and_params(req_type: str, params: dict) -> tuple[str, dict] | None:
    if req_type != RequestType.ACTION:
        return req_type, params
    mapped = _ACTION_JOBS.get(params.get("action"))
    if mapped is None:
        return None
    job, kind = mapped
    return job, {**(params.get("args") or {}), "kind": kind}


def runs_touched(req: RequestView) -> list[tuple[str, str]]:
    """(course, term) pairs whose stored runs the instructions read."""
    mapped = _kind_and_params(req.type, req.params or {})
    if mapped is None:
        return []
    job, p = mapped
    if job == RequestType.ROLLOVER:
        return [(c, p["new_term"]) for c in p.get("courses") or []]
    pairs = [(p.get("course"), p.get("term"))]
    if p.get("new_term"):
        pairs.append((p.get("course"), p["new_term"]))
    return [(c, t) for c, t in pairs if c and t]
