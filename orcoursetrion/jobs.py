"""What each request type does, on any context: with PlanOps it yields the plan shown
before confirming, with LiveOps it makes the change. One function per type, so the
plan and the execution can never disagree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from orcoursetrion import actions
from orcoursetrion.actions import STUDIO, XML, Context
from orcoursetrion.errors import ValidationError
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.naming import repo_name
from orcoursetrion.store import Store


@dataclass
class Outcome:
    """What a finished request says: one line, and the repositories it touched."""

    message: str
    repos: list[dict] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)

    def as_result(self) -> dict:
        return {"message": self.message, "repos": self.repos, "changes": self.changes, "links": self.links}


def _new(params: dict, ctx: Context) -> str:
    actions.new_course(
        params["kind"],
        params["course"],
        params["term"],
        members=params.get("members"),
        description=params.get("description") or params.get("title"),
        ctx=ctx,
    )
    kind = "Studio export" if params["kind"] == STUDIO else "XML"
    return f"New {kind} course {params['course']} {params['term']} is ready"


def _rerun(params: dict, ctx: Context) -> str:
    actions.rerun_course(
        params["course"],
        params["term"],
        params["new_term"],
        kind=params.get("kind"),
        members=params.get("members"),
        description=params.get("description"),
        ctx=ctx,
    )
    return f"{params['course']} rerun from {params['term']} into {params['new_term']} is ready"


def _release(params: dict, ctx: Context) -> str:
    changed = actions.move_to_production(params["course"], params["term"], kind=params.get("kind"), ctx=ctx)
    if not changed:
        return f"{params['course']} {params['term']} was already in production; nothing changed"
    return f"{params['course']} {params['term']} moved to production"


def _team(params: dict, ctx: Context) -> str:
    actions.set_team(params["course"], params["term"], params["members"], kind=params.get("kind"), ctx=ctx)
    return f"Team of {params['course']} {params['term']} is now {', '.join(params['members'])}"


ORIGINAL_ACTIONS: dict[str, Callable] = {
    "create_export_repo": actions.create_export_repo,
    "rerun_studio": actions.rerun_studio,
    "release_studio": actions.release_studio,
    "create_xml_repo": actions.create_xml_repo,
    "rerun_xml": actions.rerun_xml,
    "release_xml": actions.release_xml,
    "put_team": actions.put_team,
    "rerun_xml_course": actions.rerun_xml_course,
}


def _action(params: dict, ctx: Context) -> str:
    """An original CLI action run through the request lifecycle."""
    name = params["action"]
    fn = ORIGINAL_ACTIONS.get(name)
    if fn is None:
        raise ValidationError("action", f"Unknown action {name}.")
    value = fn(**params["args"], ctx=ctx)
    if name == "rerun_xml":
        return f"Successfully removed {value} hooks from course's repository."
    if name == "put_team" and isinstance(value, dict) and value.get("html_url"):
        ctx.links.append(value["html_url"])
    return ACTION_MESSAGES.get(name, f"{name} finished")


ACTION_MESSAGES = {
    "create_export_repo": "Newly created repository for exports created at",
    "rerun_studio": "Web hooks removed from old repository and newly created repository for exports created at",
    "release_studio": "Added production Web hooks to course at",
    "create_xml_repo": "Newly created repository for XML course created at",
    "release_xml": "Added production Web hooks to course at",
    "put_team": "Team successfully modified/created:",
    "rerun_xml_course": "Rerun copied without history into a new repository at",
}


PERFORMERS: dict[str, Callable[[dict, Context], str]] = {
    RequestType.NEW: _new,
    RequestType.RERUN: _rerun,
    RequestType.RELEASE: _release,
    RequestType.TEAM: _team,
    RequestType.ACTION: _action,
}


def perform(req_type: str, params: dict, ctx: Context) -> Outcome:
    """Plan (PlanOps) or run (LiveOps) one non-batch request."""
    message = PERFORMERS[req_type](params, ctx)
    repos = [{"full_name": r.full_name, "html_url": r.html_url} for r in ctx.repos]
    links = [r["html_url"] for r in repos] + ctx.links
    return Outcome(message, repos, [c.text for c in ctx.changes], links)


def record(store: Store, req_type: str, params: dict, ctx: Context, request_id: int | None) -> None:
    """Keep the store's runs in step with what a finished request did on GitHub."""
    s = ctx.settings
    if req_type == RequestType.ACTION:
        return
    course = params.get("course")
    kind = params.get("kind") or store.course_kind(course)
    if kind not in (XML, STUDIO):
        kind = XML if any(r.org.lower() == s.xml_org.lower() for r in ctx.repos) else STUDIO
    org = s.xml_org if kind == XML else s.studio_org
    by_name = {r.name.lower(): r for r in ctx.repos}

    def save(term: str, members=None, **extra) -> None:
        name = repo_name(s.course_prefix, course, term)
        ref = by_name.get(name.lower())
        url = ref.html_url if ref else f"{s.gh_api_url.split('/api/')[0].rstrip('/')}/{org}/{name}"
        team = name if kind == XML or members is not None else None
        store.record_run(course, term, kind, org, name, url, team=team, members=members, request_id=request_id, **extra)

    if req_type == RequestType.NEW:
        save(params["term"], params.get("members"), title=params.get("title"), description=params.get("description"))
    elif req_type == RequestType.RERUN:
        if store.find_run(course, params["term"]) is None:
            save(params["term"])
        save(params["new_term"], params.get("members"))
    elif req_type == RequestType.RELEASE:
        if store.find_run(course, params["term"]) is None:
            save(params["term"])
        store.mark_released(course, params["term"])
    elif req_type == RequestType.TEAM:
        save(params["term"], params["members"])


def describe(req_type: str, params: dict) -> str:
    """A one-line summary of a request, for lists, titles and tickets."""
    if req_type == RequestType.NEW:
        kind = "Studio" if params.get("kind") == STUDIO else "XML"
        return f"New {kind} course {params['course']} {params['term']}"
    if req_type == RequestType.RERUN:
        return f"Rerun {params['course']} {params['term']} → {params['new_term']}"
    if req_type == RequestType.RELEASE:
        return f"Move {params['course']} {params['term']} to production"
    if req_type == RequestType.TEAM:
        return f"Set team of {params['course']} {params['term']}"
    if req_type == RequestType.ROLLOVER:
        return f"Roll over {len(params.get('courses') or [])} course(s) {params['term']} → {params['new_term']}"
    if req_type == RequestType.ACTION:
        args = params.get("args", {})
        bits = [str(args[k]) for k in ("course", "term", "new_term", "org", "team") if args.get(k)]
        return f"{params['action']} {' '.join(bits)}".strip()
    return req_type
