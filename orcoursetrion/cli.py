"""`orcoursetrion SUBCOMMAND`: the original tool's command line, plus dry runs, the full
XML rerun, term rollover, database migrations and the local shell.

Every change runs as a recorded request (the same lifecycle as Slack), so a command
interrupted half way and run again continues the same request instead of starting over.

Only the standard library and light product modules are imported before the arguments
are parsed (`--help` and `--version` stay fast); each handler imports what it needs.
Subcommands come in families, one `add_*` function each, listed in `FAMILIES`.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from orcoursetrion import VERSION

if TYPE_CHECKING:
    from orcoursetrion.config import Settings

PROG = "orcoursetrion"
COURSE_HELP = "Course to work on (e.g. 6.0001)"
TERM_HELP = "Term of the course (e.g. Spring_2015)"
NEW_TERM_HELP = "Term of the new run (e.g. Spring_2016)"
STORE_EXIT = 3  # the exit status when DATABASE_URL cannot be used

Handler = Callable[[argparse.Namespace, "Settings"], int]

# -- output: plain words, colour only on a terminal ----------------------------------------------

_COLOURS = {"ok": "32", "same": "2", "error": "31", "warn": "33", "bold": "1"}
_SLACK_LINK = re.compile(r"<(https?://[^>|]+)\|([^>]+)>")
_SLACK_URL = re.compile(r"<(https?://[^>|]+)>")
_SLACK_MENTION = re.compile(r"<[@#!]([^>|]+)(?:\|([^>]+))?>")
_SLACK_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


def plain(text: str) -> str:
    """Text written for Slack (links, mentions, bold) as plain words for a terminal."""
    text = _SLACK_LINK.sub(r"\2 (\1)", text)
    text = _SLACK_URL.sub(r"\1", text)
    text = _SLACK_MENTION.sub(lambda m: m.group(2) or m.group(1), text)
    return _SLACK_BOLD.sub(r"\1", text)


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set or TERM=dumb."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(text: str, style: str, stream: TextIO) -> str:
    return f"\033[{_COLOURS[style]}m{text}\033[0m" if use_colour(stream) else text


def say(text: str, stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    print(plain(text), file=stream)


def printable(text: str) -> str:
    """Control characters (of what someone typed) escaped, so a message stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def fail_line(kind: str, text: str) -> None:
    """One line on stderr naming what is wrong."""
    print(f"{PROG}: {paint(kind + ':', 'error', sys.stderr)} {printable(plain(text))}", file=sys.stderr)


# -- the parser ----------------------------------------------------------------------------------


def _store_line() -> str:
    from orcoursetrion.config import default_database_path, read_environment
    from orcoursetrion.redact import redact_dsn

    url = (read_environment().get("DATABASE_URL") or "").strip()
    if url:
        return f"  DATABASE_URL: {redact_dsn(url)}"
    return f"  {default_database_path()} (DATABASE_URL is not set)"


def _epilog(*examples: str, extra: str = "") -> str:
    lines = ["example:" if len(examples) == 1 else "examples:"]
    lines += [f"  {PROG} {example}" for example in examples]
    return "\n".join(lines) + (f"\n\n{extra}" if extra else "")


def _subcommand(subparsers, name: str, text: str, examples: Sequence[str], description: str | None = None):
    return subparsers.add_parser(
        name,
        help=text,
        description=description or text,
        epilog=_epilog(*examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_arg(parser: argparse.ArgumentParser, name: str, subcommand: str) -> None:
    if name == "course":
        parser.add_argument("-c", "--course", required=True, help=COURSE_HELP)
    elif name == "term":
        parser.add_argument("-t", "--term", required=True, help=TERM_HELP)
    elif name == "new_term":
        parser.add_argument("-n", "--new-term", required=True, help=NEW_TERM_HELP)
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
            help="One or more usernames to replace the membership of the team (e.g. -m alice bob, or -m alice -m bob)",
        )
    elif name == "org":
        parser.add_argument("-o", "--org", required=True, help="Organization for the team")
    elif name == "read_only":
        parser.add_argument(
            "-r",
            "--read_only",
            dest="read_only",
            action="store_true",
            help="Team should only have pull access to repositories (a new team only: an existing team keeps its "
            "permission)",
        )


# subcommand -> (help, function argument names, examples)
ORIGINAL: dict[str, tuple[str, list[str], list[str]]] = {
    "create_export_repo": (
        "Create a Studio course export git repository",
        ["course", "term", "description"],
        ["create_export_repo -c 8.01r -t Fall_2030 -d 'Physics I'"],
    ),
    "rerun_studio": (
        "Rerun a Studio course (hooks off the old run, a new export repository)",
        ["course", "term", "new_term"],
        ["rerun_studio -c 8.01r -t Fall_2030 -n Spring_2031"],
    ),
    "release_studio": (
        "Release a Studio course (adds the production Web hook)",
        ["course", "term"],
        ["release_studio -c 8.01r -t Fall_2030"],
    ),
    "create_xml_repo": (
        "Create an XML/latex2edx git repository",
        ["course", "term", "team", "members", "description"],
        ["create_xml_repo -c 8.01r -t Fall_2030 -m alice bob -d 'Physics I'"],
    ),
    "rerun_xml": (
        "Rerun an XML course (just deletes Web hooks; see rerun_xml_course)",
        ["course", "term"],
        ["rerun_xml -c 8.01r -t Fall_2030"],
    ),
    "release_xml": (
        "Release an XML course (adds the production Web hook)",
        ["course", "term"],
        ["release_xml -c 8.01r -t Fall_2030"],
    ),
    "put_team": (
        "Create or modify a team in an organization",
        ["org", "team", "read_only", "members"],
        ["put_team -o mitx -g 'Physics Staff' -m alice bob"],
    ),
    "rerun_xml_course": (
        "Full XML rerun: hooks off, history-free copy into a new repo retargeted to the new term, team carried over",
        ["course", "term", "new_term", "members", "description"],
        ["rerun_xml_course -c 8.01r -t Fall_2030 -n Spring_2031 --dry-run"],
    ),
}


def add_original_actions(subparsers) -> None:
    """0.2.1's seven subcommands and flags, and the full XML rerun; each with --dry-run."""
    for name, (text, args, examples) in ORIGINAL.items():
        sub = _subcommand(subparsers, name, text, examples)
        for arg in args:
            _add_arg(sub, arg, name)
        sub.add_argument(
            "--dry-run", action="store_true", help="Print the GitHub changes it would make; change nothing"
        )
        sub.set_defaults(func=run_action, arg_names=args)


def add_rollover(subparsers) -> None:
    rollover = _subcommand(
        subparsers,
        "rollover",
        "Rerun every course of a term into the next one, as one resumable batch",
        ["rollover -t Fall_2030 -n Spring_2031", "rollover -t Fall_2030 -n Spring_2031 --courses courses.txt"],
        description="Rerun many courses from TERM into NEW_TERM. Interrupt it at any time; the same command "
        "continues where it stopped.",
    )
    rollover.add_argument("-t", "--term", required=True, help=TERM_HELP)
    rollover.add_argument("-n", "--new-term", required=True, help=NEW_TERM_HELP)
    rollover.add_argument(
        "--courses",
        type=Path,
        help="File with one course id per line (default: every run of TERM recorded in the store)",
    )
    rollover.add_argument("--dry-run", action="store_true", help="Print the plan; change nothing")
    rollover.set_defaults(func=run_rollover)


def add_db(subparsers) -> None:
    db = _subcommand(subparsers, "db", "Database maintenance", ["db upgrade", "db current"])
    db.add_argument("db_command", choices=["upgrade", "current"], help="upgrade: apply migrations; current: show")
    db.set_defaults(func=run_db)


def add_shell(subparsers) -> None:
    shell = _subcommand(
        subparsers,
        "shell",
        "A local Slack-like prompt for /orc commands (no Slack needed)",
        ["shell", "shell --user U012AB3CD"],
    )
    shell.add_argument("--user", default=None, help="Act as this Slack-like user id (default: an operator)")
    shell.set_defaults(func=run_shell)


def add_schedule(subparsers) -> None:
    from orcoursetrion.schedule_cli import add_parser

    add_parser(subparsers)


AUDIT_FORMATS = ("text", "csv", "json")
LARGEST_ID = 2**31 - 1  # the store's request numbers are 32-bit


def request_number(text: str) -> int:
    """`--request N`: a request number as /orc status shows it (`12` or `#12`)."""
    digits = text.strip().removeprefix("#")
    if not (digits.isascii() and digits.isdigit()) or not 0 < int(digits) <= LARGEST_ID:
        raise argparse.ArgumentTypeError(f"not a request number: {text!r} (a whole number like 12)")
    return int(digits)


def since_date(text: str):
    """`--since DATE`: YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS], in UTC unless an offset is given."""
    from datetime import UTC, datetime

    try:
        if not text.isascii():
            raise ValueError(text)
        moment = datetime.fromisoformat(text.strip())
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"not a date: {text!r} (use YYYY-MM-DD, or 'YYYY-MM-DD HH:MM' in UTC)"
        ) from None


def add_audit(subparsers) -> None:
    audit = _subcommand(
        subparsers,
        "audit",
        "Print the audit trail: who did what and when, each GitHub change with its URL",
        ["audit --request 12", "audit --since 2030-09-01 --format csv > audit.csv"],
        description="Print the audit trail of one request, or of every request since a date: transitions "
        "(who confirmed, approved, rejected), notes, and each GitHub change with its URL. Secrets are masked.",
    )
    audit.add_argument("--request", type=request_number, metavar="N", help="Only request N (as in /orc status N)")
    audit.add_argument(
        "--since", type=since_date, metavar="DATE", help="Only events at or after DATE (YYYY-MM-DD[ HH:MM], UTC)"
    )
    audit.add_argument(
        "--format", choices=AUDIT_FORMATS, default="text", help="text (default, for people), csv or json (for tools)"
    )
    audit.set_defaults(func=run_audit)


FAMILIES: list[Callable[[object], None]] = [
    add_original_actions,
    add_rollover,
    add_db,
    add_shell,
    add_schedule,
    add_audit,
]


class Parser(argparse.ArgumentParser):
    """argparse, with control characters of what was typed shown escaped in a usage error,
    so the message stays one readable line (a stray `\\r` would otherwise overwrite it)."""

    def error(self, message: str):
        super().error(printable(message))


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=PROG,
        description="Provision MITx course repositories on GitHub (the actions behind the /orc Slack bot).",
        epilog=_epilog(
            "create_xml_repo -c 8.01r -t Fall_2030 -m alice bob",
            "create_xml_repo --help",
            extra="Configuration comes from the environment or a .env file (ORC_GH_OAUTH2_TOKEN or\n"
            "ORC_GH_APP_ID + ORC_GH_APP_PRIVATE_KEY, ORC_GH_API_URL, ORC_XML_ORG, ...; see the README).\n\n"
            "Every change is recorded as a request in the store, so a command that was\n"
            "interrupted continues when run again, from any directory. The store:\n" + _store_line(),
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    subparsers = parser.add_subparsers(title="subcommands", metavar="SUBCOMMAND", dest="action", required=True)
    for add in FAMILIES:
        add(subparsers)
    return parser


# -- the original actions --------------------------------------------------------------------------


def _cli_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name (containers)
        return "cli:unknown"


def _action_args(args: argparse.Namespace) -> dict:
    mapping = {"members": "member"}
    out = {}
    for name in args.arg_names:
        value = getattr(args, mapping.get(name, name), None)
        if name == "read_only":
            value = bool(value)
        out[name] = value
    return out


def _print_outcome(message: str, links: list[str]) -> None:
    if links and message.endswith((" at", ":")):
        say(f"{message} {links[0]}")
        extra = links[1:]
    else:
        say(message)
        extra = links
    for link in extra:
        say(link)


def run_action(args: argparse.Namespace, settings: Settings) -> int:
    from orcoursetrion import actions
    from orcoursetrion.config import NO_CREDENTIALS
    from orcoursetrion.errors import ConfigError, OrcError, ValidationError, problems_of
    from orcoursetrion.jobtypes import JOB_TYPES
    from orcoursetrion.lifecycle import RequestType
    from orcoursetrion.operations import Context, World

    params = {"action": args.action, "args": _action_args(args)}
    job = JOB_TYPES[RequestType.ACTION]
    if getattr(args, "dry_run", False):
        ctx = actions.plan_context(settings)
        try:
            job.plan(params, ctx)
        except ValidationError:
            raise  # malformed input: one line and exit 2, as without --dry-run
        except OrcError as exc:
            _print_plan([c.text for c in ctx.changes], ctx.notes, settings.dry_run_only, problems_of(exc))
            return 1
        _print_plan([c.text for c in ctx.changes], ctx.notes, settings.dry_run_only)
        return 0
    if not settings.gh_configured:
        raise ConfigError([NO_CREDENTIALS])
    job.plan(params, Context(settings, World(settings, None), False))  # input checks, before anything is recorded
    return _run_request(settings, RequestType.ACTION, params)


def _print_plan(changes: list[str], notes: list[str], offline: bool, problems: list | None = None) -> None:
    from orcoursetrion.errors import user_message

    if problems:
        say("Dry run: this cannot run as it is. Nothing was changed.")
        for problem in problems:
            say(f"  problem: {user_message(problem)}")
        if changes:
            say("The GitHub changes it would make, in order:")
    else:
        say("Dry run: nothing was changed. These GitHub changes would be made, in order:")
    for number, change in enumerate(changes, 1):
        say(f"  {number}. {change}")
    for note in notes:
        say(f"  note: {note}")
    if offline:
        say("(GitHub was not consulted: neither ORC_GH_OAUTH2_TOKEN nor a GitHub App is set.)")


def _run_request(settings: Settings, req_type: str, params: dict) -> int:
    from orcoursetrion.errors import OrcError
    from orcoursetrion.lifecycle import Status
    from orcoursetrion.store import open_store
    from orcoursetrion.workflow import Workflow

    store = open_store(settings.database_url)
    workflow = Workflow(settings, store)
    workflow.subscribe(print_event, "cli-progress")
    from orcoursetrion import zendesk

    tickets = zendesk.attach(workflow, settings)
    user = _cli_user()
    try:
        earlier = store.find_unfinished(req_type, params)
        if earlier is not None:
            say(f"Resuming request #{earlier.id} (started {earlier.created_at:%Y-%m-%d %H:%M} UTC).", sys.stderr)
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
            raise OrcError(_failure_text(final))
        result = final.result or {}
        _print_outcome(result.get("message", "Done."), result.get("links") or [])
        if tickets is not None:
            _print_ticket(tickets, final.id)
        return 0
    finally:
        workflow.shutdown()
        if tickets is not None:
            tickets.drain(timeout=10, give_up_on_error=True)  # what is left goes with the next run
            tickets.stop()
        store.close()


def _failure_text(final) -> str:
    text = final.error or f"Request #{final.id} ended {final.state.label}."
    if final.error_step and not final.error_step.startswith("checks before"):
        text += f" (request #{final.id} stopped at: {final.error_step}; run the same command again to continue)"
    return text


def _print_ticket(tickets, req_id: int) -> None:
    """The line after the result: the request's Zendesk ticket, once Zendesk has it."""
    from orcoursetrion import zendesk

    tickets.drain(req_id, timeout=10, give_up_on_error=True)
    url = zendesk.ticket_link(tickets.settings, tickets.store.get(req_id))
    if url:
        print(f"Zendesk ticket: {url}")
    else:
        print("Zendesk ticket: not opened yet (Zendesk did not answer); it stays queued and is sent later.")


def print_event(event) -> None:
    """Progress on stderr: one line per GitHub change (✓ made, · already so)."""
    if event.kind == "step":
        changed = event.data.get("changed", True)
        mark = paint("✓", "ok", sys.stderr) if changed else paint("·", "same", sys.stderr)
        print(f"  {mark} {plain(event.text or '')}", file=sys.stderr)
    elif event.kind == "progress":
        data = event.data
        where = f" — now {data['current']}" if data.get("current") else ""
        pause = f" (waiting {data['paused']:.0f}s: {data['paused_reason']})" if data.get("paused") else ""
        print(f"[{data['done'] + len(data['failed'])}/{data['total']}]{where}{pause}", file=sys.stderr)


# -- rollover, db, shell ---------------------------------------------------------------------------


def run_rollover(args: argparse.Namespace, settings: Settings) -> int:
    from commands.base import Draft
    from commands.rollover import parse_courses
    from orcoursetrion.config import NO_CREDENTIALS
    from orcoursetrion.errors import ConfigError, ValidationError
    from orcoursetrion.lifecycle import RequestType
    from orcoursetrion.store import open_store

    if args.courses:
        try:
            text = args.courses.read_text(encoding="utf-8")
        except OSError as exc:
            raise ValidationError("courses", f"Cannot read {args.courses}: {exc.strerror}.") from None
        except ValueError:  # a NUL in the path, or a file that is not UTF-8 text
            raise ValidationError(
                "courses", f"Cannot read {str(args.courses)!r} as a text file of course ids."
            ) from None
        courses = parse_courses(text)
    else:
        store = open_store(settings.database_url)
        try:
            courses = [run.course for run in store.runs_in_term(args.term)]
        finally:
            store.close()
    params = {"term": args.term, "new_term": args.new_term, "courses": courses}
    proposal = _propose_rollover(Draft(RequestType.ROLLOVER, params), settings)
    if args.dry_run:
        _print_plan(proposal.changes, proposal.notes, False, proposal.problems)
        return 1 if proposal.problems else 0
    if proposal.problems:
        raise proposal.error
    if not settings.gh_configured:
        raise ConfigError([NO_CREDENTIALS])
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
    from orcoursetrion.store.health import unavailable_on_error

    with unavailable_on_error(settings.database_url):
        store = Store(settings.database_url)
        try:
            if args.db_command == "upgrade":
                upgrade(store)
            say(f"Database schema at {current_revision(store)} (newest: {head_revision()}).")
        finally:
            store.close()
    return 0


def run_audit(args: argparse.Namespace, settings: Settings) -> int:
    from orcoursetrion import audit
    from orcoursetrion.changes import web_base
    from orcoursetrion.store import open_store

    store = open_store(settings.database_url)
    try:
        entries, requests = audit.trail(store, web_base(settings.gh_api_url), args.request, args.since)
    finally:
        store.close()
    if args.format == "json":
        print(audit.as_json(entries))
    elif args.format == "csv":
        sys.stdout.write(audit.as_csv(entries))
    elif entries:
        print(audit.as_text(entries, requests))
    else:
        since = f" since {audit.when(args.since)}" if args.since else ""
        print(f"No audit events{' for request #' + str(args.request) if args.request else ''}{since}.")
    return 0


def run_shell(args: argparse.Namespace, settings: Settings) -> int:
    from commands.shell import run

    return run(settings, user=args.user)


# -- entry point -----------------------------------------------------------------------------------


class _OneLine(logging.Formatter):
    """`orcoursetrion: warning: ...` without a timestamp or traceback (a terminal, not a log file)."""

    def format(self, record: logging.LogRecord) -> str:
        from orcoursetrion.redact import redact

        return redact(f"{PROG}: {record.levelname.lower()}: {record.getMessage()}")


def configure_cli_logging(settings: Settings) -> None:
    """Quiet by default: errors only, plus GitHub's rate-limit pauses (as JSON lines with
    LOG_FORMAT=json); LOG_LEVEL set in the environment gives the service's log instead."""
    from orcoursetrion.redact import configure_logging

    if os.environ.get("LOG_LEVEL"):
        configure_logging(settings.log_level, settings.log_format)
        return
    configure_logging("ERROR", settings.log_format, text=_OneLine())
    logging.getLogger("orcoursetrion.github").setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from orcoursetrion.config import library_settings
    from orcoursetrion.errors import ConfigError, OrcError, StoreUnavailable, ValidationError, user_message
    from orcoursetrion.redact import redact

    try:
        settings = library_settings()  # the environment; in a script, also the ORC_* attributes it set
        configure_cli_logging(settings)
        return args.func(args, settings)
    except StoreUnavailable as exc:
        fail_line("store", user_message(exc))
        return STORE_EXIT
    except ConfigError as exc:
        for problem in exc.problems:
            fail_line("configuration", problem)
        return 2
    except ValidationError as exc:
        fail_line("error", user_message(exc))
        return 2
    except OrcError as exc:
        fail_line("error", user_message(exc))
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; run the same command again to continue.", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback with secrets for a user
        logging.getLogger("orcoursetrion.cli").debug("unexpected error", exc_info=True)
        fail_line("error", redact(user_message(exc)))
        return 1


if __name__ == "__main__":
    sys.exit(main())
