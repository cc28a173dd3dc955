"""`orcoursetrion SUBCOMMAND`: the original tool's command line, plus dry runs, the full
XML rerun, term rollover, database migrations and the local shell.

Every change runs as a recorded request (the same lifecycle as Slack), so a command
interrupted half way and run again continues the same request instead of starting over.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from orcoursetrion import actions
from orcoursetrion.config import Settings, load_settings
from orcoursetrion.errors import ConfigError, OrcError, ValidationError, problems_of, user_message
from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.redact import configure_logging, redact
from orcoursetrion.schedule_cli import add_parser as add_schedule_parser

log = logging.getLogger("orcoursetrion.cli")

COURSE_HELP = "Course to work on (i.e. 6.0001)"
TERM_HELP = "Term of the course (i.e. Spring_2015)"

# subcommand -> (help, [(flags, kwargs)...], function argument names)
ORIGINAL = {
    "create_export_repo": ("Create a Studio course export git repository", ["course", "term", "description"]),
    "rerun_studio": ("Rerun a Studio course", ["course", "term", "new_term"]),
    "release_studio": ("Release a Studio course (adds the production Web hook)", ["course", "term"]),
    "create_xml_repo": ("Create an XML/latex2edx git repository", ["course", "term", "team", "members", "description"]),
    "rerun_xml": ("Rerun an XML course (just deletes Web hooks; see rerun_xml_course)", ["course", "term"]),
    "release_xml": ("Release an XML course (adds the production Web hook)", ["course", "term"]),
    "put_team": ("Create or modify a team in an organization", ["org", "team", "read_only", "members"]),
    "rerun_xml_course": (
        "Full XML rerun: hooks off, history-free copy into a new repo retargeted to the new term, team carried over",
        ["course", "term", "new_term", "members", "description"],
    ),
}


def _add_arg(parser: argparse.ArgumentParser, name: str, subcommand: str) -> None:
    if name == "course":
        parser.add_argument("-c", "--course", required=True, help=COURSE_HELP)
    elif name == "term":
        parser.add_argument("-t", "--term", required=True, help=TERM_HELP)
    elif name == "new_term":
        parser.add_argument("-n", "--new-term", required=True, help="Term of the new run (i.e. Spring_2016)")
    elif name == "description":
        parser.add_argument("-d", "--description", help="Description string to set for repository")
    elif name == "team":
        team_help = (
            "Name of team in organization that should have access"
            if subcommand == "put_team"
            else "Name of team in organization that should have access, creates new team with the same name as "
            "the repository if empty."
        )
        parser.add_argument("-g", "--team", required=subcommand == "put_team", help=team_help)
    elif name == "members":
        parser.add_argument(
            "-m",
            "--member",
            dest="member",
            nargs="*",
            action="extend",
            default=None,
            help="One or more usernames to replace the membership of the team (-m alice bob, or -m alice -m bob)",
        )
    elif name == "org":
        parser.add_argument("-o", "--org", required=True, help="Organization for the team")
    elif name == "read_only":
        parser.add_argument(
            "-r",
            "--read_only",
            dest="read_only",
            action="store_true",
            help="Team should only have pull access to repositories",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orcoursetrion",
        description="Provision MITx course repositories on GitHub (the actions behind the /orc Slack bot).",
    )
    subparsers = parser.add_subparsers(title="Actions", description="Valid actions", dest="action", required=True)
    for name, (text, args) in ORIGINAL.items():
        sub = subparsers.add_parser(name, help=text, description=text)
        for arg in args:
            _add_arg(sub, arg, name)
        sub.add_argument(
            "--dry-run", action="store_true", help="Print the GitHub changes it would make; change nothing"
        )
        sub.set_defaults(func=run_action, arg_names=args)

    rollover = subparsers.add_parser(
        "rollover",
        help="Rerun every course of a term into the next one, as one resumable batch",
        description="Rerun many courses from TERM into NEW_TERM. Interrupt it at any time; the same command "
        "continues where it stopped.",
    )
    rollover.add_argument("-t", "--term", required=True, help=TERM_HELP)
    rollover.add_argument("-n", "--new-term", required=True, help="Term of the new runs")
    rollover.add_argument(
        "--courses",
        type=Path,
        help="File with one course id per line (default: every run of TERM recorded in the store)",
    )
    rollover.add_argument("--dry-run", action="store_true", help="Print the plan; change nothing")
    rollover.set_defaults(func=run_rollover)

    db = subparsers.add_parser("db", help="Database maintenance", description="Database maintenance")
    db.add_argument("db_command", choices=["upgrade", "current"], help="upgrade: apply migrations; current: show")
    db.set_defaults(func=run_db)

    shell = subparsers.add_parser("shell", help="A local Slack-like prompt for /orc commands (no Slack needed)")
    shell.add_argument("--user", default=None, help="Act as this Slack-like user id (default: an operator)")
    shell.set_defaults(func=run_shell)
    add_schedule_parser(subparsers)
    return parser


def _cli_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name (containers)
        return "cli:unknown"


def _action_args(args: argparse.Namespace) -> dict:
    mapping = {"members": "member"}
    out = {}
    for name in args.arg_names:
        value = getattr(args, mapping.get(name, name))
        if name == "read_only":
            value = bool(value)
        out[name] = value
    return out


def _print_outcome(message: str, links: list[str]) -> None:
    if links and message.endswith((" at", ":")):
        print(f"{message} {links[0]}")
        extra = links[1:]
    else:
        print(message)
        extra = links
    for link in extra:
        print(link)


def run_action(args: argparse.Namespace, settings: Settings) -> int:
    from orcoursetrion.jobtypes import JOB_TYPES
    from orcoursetrion.operations import Context, World

    params = {"action": args.action, "args": _action_args(args)}
    job = JOB_TYPES[RequestType.ACTION]
    if args.dry_run:
        ctx = actions.plan_context(settings)
        try:
            job.plan(params, ctx)
        except OrcError as exc:
            _print_plan([c.text for c in ctx.changes], ctx.notes, settings.dry_run_only, problems_of(exc))
            return 1
        _print_plan([c.text for c in ctx.changes], ctx.notes, settings.dry_run_only)
        return 0
    if not settings.gh_token:
        raise ConfigError(["ORC_GH_OAUTH2_TOKEN: required to change GitHub (set it, or use --dry-run)"])
    job.plan(params, Context(settings, World(settings, None), False))  # input checks, before anything is recorded
    return _run_request(settings, RequestType.ACTION, params)


def _print_plan(changes: list[str], notes: list[str], offline: bool, problems: list[OrcError] | None = None) -> None:
    if problems:
        print("Dry run: this cannot run as it is. Nothing was changed.")
        for problem in problems:
            print(f"  problem: {user_message(problem)}")
        if changes:
            print("The GitHub changes it would make, in order:")
    else:
        print("Dry run: nothing was changed. These GitHub changes would be made, in order:")
    for number, change in enumerate(changes, 1):
        print(f"  {number}. {change}")
    for note in notes:
        print(f"  note: {note}")
    if offline:
        print("(GitHub was not consulted: ORC_GH_OAUTH2_TOKEN is not set.)")


def _run_request(settings: Settings, req_type: str, params: dict) -> int:
    from orcoursetrion.store import open_store
    from orcoursetrion.workflow import Workflow

    store = open_store(settings.database_url)
    workflow = Workflow(settings, store)
    workflow.subscribe(_print_event)
    user = _cli_user()
    try:
        earlier = store.find_unfinished(req_type, params)
        if earlier is not None:
            print(f"Resuming request #{earlier.id} (started {earlier.created_at:%Y-%m-%d %H:%M} UTC).", file=sys.stderr)
            if not workflow.resume_one(earlier.id, user):
                raise OrcError(f"Request #{earlier.id} is running in another process; try again when it stops.")
            final = store.get(earlier.id)
        else:
            req = workflow.create(req_type, user, params)
            workflow.approve_direct(req.id, user, "run from the command line")
            final = workflow.run_now(req.id)
        workflow.bus.flush(10)  # progress lines first, then the result
        if final.id in workflow.runner.taken_over:
            raise OrcError(
                f"Request #{final.id} was taken over by another process while this one was stalled; "
                "it continues there (see its status there, or run this command again later)."
            )
        if final.state != Status.COMPLETED:
            raise OrcError(final.error or f"Request #{final.id} ended {final.state.label}.")
        result = final.result or {}
        _print_outcome(result.get("message", "Done."), result.get("links") or [])
        return 0
    finally:
        workflow.shutdown()
        store.close()


def _print_event(event) -> None:
    if event.kind == "step":
        mark = "✓" if event.data.get("changed", True) else "·"
        print(f"  {mark} {event.text}", file=sys.stderr)
    elif event.kind == "progress":
        data = event.data
        where = f" — now {data['current']}" if data.get("current") else ""
        pause = f" (waiting {data['paused']:.0f}s: {data['paused_reason']})" if data.get("paused") else ""
        print(f"[{data['done'] + len(data['failed'])}/{data['total']}]{where}{pause}", file=sys.stderr)


def run_rollover(args: argparse.Namespace, settings: Settings) -> int:
    from commands.rollover import parse_courses
    from orcoursetrion.store import open_store

    if args.courses:
        try:
            text = args.courses.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError("courses", f"Cannot read {args.courses}: {exc.strerror}.") from None
        courses = parse_courses(text)
    else:
        store = open_store(settings.database_url)
        try:
            courses = [run.course for run in store.runs_in_term(args.term)]
        finally:
            store.close()
    params = {"term": args.term, "new_term": args.new_term, "courses": courses}
    from commands.base import Draft

    proposal = _propose_rollover(Draft(RequestType.ROLLOVER, params), settings)
    if args.dry_run:
        _print_plan(proposal.changes, proposal.notes, False, proposal.problems)
        return 1 if proposal.problems else 0
    if proposal.problems:
        raise proposal.error
    if not settings.gh_token:
        raise ConfigError(["ORC_GH_OAUTH2_TOKEN: required to change GitHub (set it, or use --dry-run)"])
    return _run_request(settings, RequestType.ROLLOVER, proposal.params)


def _propose_rollover(draft, settings: Settings):
    from commands.base import Services
    from commands.planning import propose
    from orcoursetrion.store import open_store
    from orcoursetrion.workflow import Workflow

    store = open_store(settings.database_url)
    workflow = Workflow(settings, store)
    try:
        return propose(draft, Services(settings, store, workflow))
    finally:
        workflow.shutdown()
        store.close()


def run_db(args: argparse.Namespace, settings: Settings) -> int:
    from orcoursetrion.store import Store, current_revision, head_revision, upgrade

    store = Store(settings.database_url)
    try:
        if args.db_command == "upgrade":
            upgrade(store)
        print(f"Database schema at {current_revision(store)} (newest: {head_revision()}).")
    finally:
        store.close()
    return 0


def run_shell(args: argparse.Namespace, settings: Settings) -> int:
    from commands.shell import run

    return run(settings, user=args.user)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level if settings.log_level != "INFO" else "WARNING")
        return args.func(args, settings)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"orcoursetrion: configuration: {problem}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        print(f"orcoursetrion: error: {user_message(exc)}", file=sys.stderr)
        return 2
    except OrcError as exc:
        print(f"orcoursetrion: error: {user_message(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("orcoursetrion: interrupted; run the same command again to continue.", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback with secrets for a user
        log.debug("unexpected error", exc_info=True)
        print(f"orcoursetrion: error: {redact(user_message(exc))}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
