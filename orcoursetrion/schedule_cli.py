"""`orcoursetrion schedule release|rerun … --at "YYYY-MM-DD HH:MM" [--tz ZONE]`, `schedule list`,
`schedule cancel ID`: the /orc schedule verb at the command line.

The command records a Scheduled request (operators at the command line need no approval,
as for the other subcommands) and returns; the long-running service (`python app.py`)
runs it at its time. No scheduler runs in this process.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orcoursetrion.config import Settings

EXAMPLES = (
    'schedule release -c 8.01r -t Fall_2030 --at "2030-09-01 09:00" --tz America/New_York',
    'schedule rerun -c 8.01r -t Fall_2030 -n Spring_2031 --at "2030-12-20 17:00"',
    "schedule list",
    "schedule cancel 12",
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """The `schedule` subcommand and its own subcommands (imports nothing heavy: help is fast)."""
    text = "Schedule a release or rerun for a given time; list or cancel what is scheduled"
    schedule = subparsers.add_parser(
        "schedule",
        help=text,
        description=text + ". The running service (python app.py) starts each at its time.",
        epilog="examples:\n" + "\n".join(f"  orcoursetrion {e}" for e in EXAMPLES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verbs = schedule.add_subparsers(dest="schedule_command", required=True)
    for name, what in (
        ("release", "Move a run to production at a given time"),
        ("rerun", "Rerun a course at a given time"),
    ):
        sub = verbs.add_parser(name, help=what, description=what)
        sub.add_argument("-c", "--course", required=True, help="Course to work on (i.e. 6.0001)")
        sub.add_argument("-t", "--term", required=True, help="Term of the course (i.e. Spring_2015)")
        if name == "rerun":
            sub.add_argument("-n", "--new-term", help="Term of the new run (default: the next one in ORC_TERMS)")
            sub.add_argument(
                "-m", "--member", nargs="*", action="extend", default=None, help="Team members of the new run"
            )
        sub.add_argument("-k", "--kind", choices=("xml", "studio"), help="Kind of course (default: found)")
        sub.add_argument("--at", required=True, help='When, on the clock of --tz: "YYYY-MM-DD HH:MM" (24-hour)')
        sub.add_argument("--tz", help="IANA time zone of --at, like America/New_York (default: ORC_TIMEZONE)")
        sub.add_argument("--dry-run", action="store_true", help="Print the plan and the time; record nothing")
    verbs.add_parser("list", help="List scheduled requests, soonest first")
    cancel = verbs.add_parser("cancel", help="Cancel a scheduled request before it runs")
    cancel.add_argument("id", type=int, help="Request number")
    schedule.set_defaults(func=run_schedule)


def run_schedule(args: argparse.Namespace, settings: Settings) -> int:
    from commands.base import Services
    from orcoursetrion.cli import _cli_user, say
    from orcoursetrion.store import open_store
    from orcoursetrion.workflow import Workflow

    store = open_store(settings.database_url)
    workflow = Workflow(settings, store)
    services = Services(settings, store, workflow)
    try:
        if args.schedule_command == "list":
            return _list(services)
        if args.schedule_command == "cancel":
            req = workflow.cancel_scheduled(args.id, _cli_user(), direct=True)
            say(f"Cancelled request #{req.id}: {req.summary}.")
            return 0
        return _schedule(args, services, _cli_user())
    finally:
        workflow.shutdown()
        store.close()


def _list(services) -> int:
    from commands.describe import schedule_line
    from orcoursetrion.cli import say
    from orcoursetrion.times import plain_dates

    found = services.store.scheduled_requests(limit=200)
    for req in found:
        say(plain_dates(schedule_line(req, services.settings.timezone, requester=True)))
    if not found:
        say("Nothing is scheduled.")
    return 0


def _schedule(args: argparse.Namespace, services, user: str) -> int:
    from commands.base import Invocation
    from commands.planning import propose
    from commands.schedule import plan
    from commands.text import UsageError
    from orcoursetrion.cli import say
    from orcoursetrion.config import NO_CREDENTIALS
    from orcoursetrion.errors import ConfigError, ValidationError
    from orcoursetrion.naming import check_members
    from orcoursetrion.times import check_zone, local_text, plain_dates

    settings = services.settings
    tz = check_zone(args.tz) if args.tz else settings.timezone
    words = [args.schedule_command, args.course, args.term]
    if getattr(args, "new_term", None):
        words.append(args.new_term)
    if args.kind:
        words.append(args.kind)
    words += args.at.replace("T", " ").split()
    try:
        draft = plan(Invocation(user, words, channel="cli", timezone=tz), services)
    except UsageError as exc:
        raise ValidationError("at", str(exc)) from None
    if getattr(args, "member", None) is not None:
        draft.params["members"] = check_members(args.member)
    proposal = propose(draft, services)
    say(f"Plan: {proposal.summary}")
    for number, change in enumerate(proposal.changes, 1):
        say(f"  {number}. {change}")
    for note in proposal.notes:
        say(f"  note: {plain_dates(note)}")
    if proposal.problems:
        raise proposal.error
    if args.dry_run:
        say("(Dry run: nothing was recorded.)")
        return 0
    if not settings.gh_configured:
        raise ConfigError([NO_CREDENTIALS])
    wf = services.workflow
    req = wf.create(proposal.type, user, proposal.params, plan=proposal.changes, channel="cli")
    req = wf.schedule_direct(req.id, user, "scheduled from the command line")
    say(
        f"Scheduled request #{req.id}: {req.summary} at {local_text(req.scheduled_for, tz)} "
        f"({local_text(req.scheduled_for, 'UTC')}). The running service (python app.py) starts it then."
    )
    return 0
