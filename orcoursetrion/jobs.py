"""Job types, one declaration each: what a request of that type does (the same action
code for its plan and its run), how it is described, and what it records in the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orcoursetrion import actions
from orcoursetrion.actions import STUDIO, XML
from orcoursetrion.errors import ValidationError
from orcoursetrion.lifecycle import RequestType
from orcoursetrion.naming import repo_name
from orcoursetrion.operations import Context
from orcoursetrion.store import Store

if TYPE_CHECKING:
    from orcoursetrion.runner import JobRun


@dataclass
class Outcome:
    """What a finished request says: one line, and the repositories it touched."""

    message: str
    repos: list[dict] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_result(self) -> dict:
        return {"message": self.message, "repos": self.repos, "changes": self.changes, "links": self.links}


Act = Callable[[dict, Context], str]
Record = Callable[[Store, dict, Context, int | None], None]


@dataclass(frozen=True)
class JobType:
    """One kind of request. `act` runs the actions on a context (a plan or live); batch
    types give `run` instead and drive their own contexts."""

    name: str
    describe: Callable[[dict], str]
    act: Act | None = None
    record: Record | None = None
    run: Callable[[JobRun], Outcome] | None = None

    def plan(self, params: dict, ctx: Context) -> Outcome:
        return outcome(self.act(params, ctx), ctx)

    def execute(self, run: JobRun) -> Outcome:
        if self.run is not None:
            return self.run(run)
        ctx = run.context()
        message = self.act(run.request.params, ctx)
        if not ctx.live:  # no GitHub to change: the outcome is what it would have done
            message = f"Dry run, nothing changed on GitHub (no ORC_GH_OAUTH2_TOKEN or GitHub App is set): {message}"
        result = outcome(message, ctx)
        if self.record is not None and ctx.live:
            self.record(run.store, run.request.params, ctx, run.request.id)
        return result


def outcome(message: str, ctx: Context) -> Outcome:
    repos = [{"full_name": r.full_name, "html_url": ctx.world.repo_json(r)["html_url"]} for r in ctx.touched]
    links = [r["html_url"] for r in repos] + ctx.links
    return Outcome(message, repos, [c.text for c in ctx.changes], links, list(ctx.notes))


# -- new ------------------------------------------------------------------------------------------


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


def _describe_new(params: dict) -> str:
    kind = "Studio" if params.get("kind") == STUDIO else "XML"
    return f"New {kind} course {params['course']} {params['term']}"


def _record_new(store: Store, params: dict, ctx: Context, request_id: int | None) -> None:
    save_run(
        store,
        ctx,
        params,
        params["term"],
        params.get("members"),
        request_id,
        title=params.get("title"),
        description=params.get("description"),
    )


# -- rerun ----------------------------------------------------------------------------------------


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


def _describe_rerun(params: dict) -> str:
    return f"Rerun {params['course']} {params['term']} → {params['new_term']}"


def record_rerun(store: Store, params: dict, ctx: Context, request_id: int | None) -> None:
    if store.find_run(params["course"], params["term"]) is None:
        save_run(store, ctx, params, params["term"], None, None)
    save_run(store, ctx, params, params["new_term"], params.get("members"), request_id)


# -- release --------------------------------------------------------------------------------------


def _release(params: dict, ctx: Context) -> str:
    changed = actions.move_to_production(params["course"], params["term"], kind=params.get("kind"), ctx=ctx)
    if not changed:
        return f"{params['course']} {params['term']} was already in production; nothing changed"
    return f"{params['course']} {params['term']} moved to production"


def _record_release(store: Store, params: dict, ctx: Context, request_id: int | None) -> None:
    if store.find_run(params["course"], params["term"]) is None:
        save_run(store, ctx, params, params["term"], None, None)
    store.mark_released(params["course"], params["term"])


# -- team -----------------------------------------------------------------------------------------


def _team(params: dict, ctx: Context) -> str:
    actions.set_team(params["course"], params["term"], params["members"], kind=params.get("kind"), ctx=ctx)
    return f"Team of {params['course']} {params['term']} is now {', '.join(params['members'])}"


def _record_team(store: Store, params: dict, ctx: Context, request_id: int | None) -> None:
    save_run(store, ctx, params, params["term"], params["members"], None)


# -- the original CLI actions, run through the same lifecycle ---------------------------------------

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

ACTION_MESSAGES = {
    "create_export_repo": "Newly created repository for exports created at",
    "rerun_studio": "Web hooks removed from old repository and newly created repository for exports created at",
    "release_studio": "Added production Web hooks to course at",
    "create_xml_repo": "Newly created repository for XML course created at",
    "release_xml": "Added production Web hooks to course at",
    "put_team": "Team successfully modified/created:",
    "rerun_xml_course": "Rerun copied without history into a new repository at",
}


def _action(params: dict, ctx: Context) -> str:
    name = params["action"]
    fn = ORIGINAL_ACTIONS.get(name)
    if fn is None:
        raise ValidationError("action", f"Unknown action {name}.")
    value = fn(**params["args"], ctx=ctx)
    if name == "rerun_xml":
        return f"Successfully removed {value} hooks from course's repository."
    if name in ("release_studio", "release_xml") and ctx.live and not any(c.changed for c in ctx.changes):
        return "The production Web hook was already on course at"  # nothing was added: say so
    if name == "put_team":
        if isinstance(value, dict) and value.get("html_url"):
            ctx.links.append(value["html_url"])
        kept = _kept_permission(ctx, params["args"])
        if kept:
            return f"Team successfully modified/created; {kept}:"
    return ACTION_MESSAGES.get(name, f"{name} finished")


def _kept_permission(ctx: Context, args: dict) -> str | None:
    """0.2.1's rule, made visible: an existing team keeps its permission whatever -r says."""
    asked = "pull" if args.get("read_only") else "push"
    for change in ctx.changes:
        if change.op == "ensure_team" and not change.changed and "left unchanged" in change.text:
            current = (ctx.world.team(args["org"], args["team"]).data or {}).get("permission", "as it was")
            flag = "-r" if asked == "pull" else "push, the default without -r,"
            return f"it already existed, so its permission stays {current} ({flag} applies only when a team is created)"
    return None


def _describe_action(params: dict) -> str:
    args = params.get("args", {})
    bits = [str(args[k]) for k in ("course", "term", "new_term", "org", "team") if args.get(k)]
    return f"{params['action']} {' '.join(bits)}".strip()


# -- the store's runs ---------------------------------------------------------------------------------


def save_run(
    store: Store,
    ctx: Context,
    params: dict,
    term: str,
    members: list[str] | None,
    request_id: int | None,
    **extra,
) -> None:
    """Keep the store's run of (course, term) in step with what the request did on GitHub."""
    s = ctx.settings
    course = params["course"]
    kind = params.get("kind") or store.course_kind(course)
    if kind not in (XML, STUDIO):
        kind = XML if any(r.org.lower() == s.xml_org.lower() for r in ctx.touched) else STUDIO
    org = s.xml_org if kind == XML else s.studio_org
    name = repo_name(s.course_prefix, course, term)
    url = ctx.world.repo_json(ctx.world.repo(org, name))["html_url"]
    team = name if kind == XML or members is not None else None
    store.record_run(course, term, kind, org, name, url, team=team, members=members, request_id=request_id, **extra)


NEW = JobType(RequestType.NEW, _describe_new, _new, _record_new)
RERUN = JobType(RequestType.RERUN, _describe_rerun, _rerun, record_rerun)
RELEASE = JobType(
    RequestType.RELEASE, lambda p: f"Move {p['course']} {p['term']} to production", _release, _record_release
)
TEAM = JobType(RequestType.TEAM, lambda p: f"Set team of {p['course']} {p['term']}", _team, _record_team)
ACTION = JobType(RequestType.ACTION, _describe_action, _action)

SINGLE = (NEW, RERUN, RELEASE, TEAM, ACTION)
