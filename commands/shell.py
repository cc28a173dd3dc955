"""A local, Slack-like prompt: type `/orc ...` lines, see the bot's replies as text and
answer its questions at the prompt. For trying the bot without a Slack workspace
(like Errbot's text backend); with no GitHub token every plan is a dry run."""

from __future__ import annotations

import sys
from typing import TextIO

from commands import REGISTRY, Draft, FieldErrors, Invocation, OpenModal, Reply, Services, dispatch
from commands.describe import scheduled_time
from commands.planning import Proposal, propose
from orcoursetrion.config import Settings
from orcoursetrion.errors import OrcError, user_message
from orcoursetrion.lifecycle import Status
from orcoursetrion.scheduler import Clock, Scheduler
from orcoursetrion.store import RequestView
from orcoursetrion.times import plain_dates
from orcoursetrion.workflow import Event, Workflow
from orcoursetrion.zendesk import attach

PROMPT = "orc> "
SHELL_USER = "USHELL"
BANNER = """orcoursetrion local shell — type /orc help (the leading /orc is optional), /as USERID to act as
someone else, /quit or Ctrl-D to leave."""


class Shell:
    """Reads commands from `inp`, writes replies to `out`; the same verbs and workflow as Slack."""

    def __init__(self, services: Services, user: str, inp: TextIO, out: TextIO) -> None:
        self.services, self.user, self.inp, self.out = services, user, inp, out
        services.workflow.subscribe(self._on_event)

    # -- i/o -------------------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        self.out.write(plain_dates(text) + "\n")
        self.out.flush()

    def ask(self, prompt: str) -> str | None:
        self.out.write(prompt)
        self.out.flush()
        line = self.inp.readline()
        if not line:
            return None
        if not self.inp.isatty():
            self.out.write(line if line.endswith("\n") else line + "\n")
        return line.rstrip("\n")

    def _on_event(self, event: Event) -> None:
        if event.kind == "step":
            self.say(f"  {'✓' if event.data.get('changed', True) else '·'} {event.text}")
        elif event.kind == "progress":
            d = event.data
            now = f" — {d['current']}" if d.get("current") else ""
            self.say(f"  [{d['done'] + len(d['failed'])}/{d['total']}]{now}")
        elif event.kind == "completed":
            self.say(f"Done: {event.text}")
            for link in (event.request.result or {}).get("links") or []:
                self.say(f"  {link}")
        elif event.kind == "failed":
            self.say(f"Failed: {event.text}  (type `/orc retry {event.request.id}` to try again)")
        elif event.kind == "pending_approval":
            self.say(f"Request #{event.request.id} waits for an approver: `/orc approve {event.request.id}`.")
        elif event.kind == "rejected":
            self.say(f"Request #{event.request.id} was rejected: {event.text}")
        elif event.kind == "scheduled":
            self.say(f"Request #{event.request.id} is scheduled for {scheduled_time(event.request)}.")

    # -- loop ------------------------------------------------------------------------------------
    def run(self) -> int:
        self.say(BANNER)
        if self.services.settings.dry_run_only:
            self.say("GitHub is not configured (ORC_GH_OAUTH2_TOKEN unset): plans are shown, nothing is changed.")
        while True:
            line = self.ask(PROMPT)
            if line is None or line.strip() in ("/quit", "/exit", "quit", "exit"):
                self.say("\nBye." if line is None else "Bye.")
                return 0
            line = line.strip()
            if not line:
                continue
            if line.startswith("/as "):
                self.user = line[4:].strip() or self.user
                self.say(f"You are now {self.user}{' (approver)' if self.services.is_approver(self.user) else ''}.")
                continue
            if line.startswith("/orc"):
                line = line[4:].strip()
            self.handle(line)
            self.services.workflow.wait_idle(timeout=3600)

    def handle(self, text: str) -> None:
        inv = Invocation(self.user, [], channel="shell", timezone=self.services.settings.timezone)
        try:
            outcome = dispatch(text, inv, self.services)
            if isinstance(outcome, OpenModal):
                outcome = self.fill(outcome, inv)
                if outcome is None:
                    return
            if isinstance(outcome, Reply):
                if outcome.title:
                    self.say(f"*{outcome.title}*")
                self.say(outcome.text)
            elif isinstance(outcome, Draft):
                self.plan_and_confirm(outcome, inv)
        except OrcError as exc:
            self.say(f"Error: {user_message(exc)}")

    def fill(self, modal: OpenModal, inv: Invocation) -> Draft | Reply | None:
        """Ask each form field at the prompt; re-ask the ones the verb rejects."""
        self.say(f"*{modal.title}*" + (f" — {modal.intro}" if modal.intro else ""))
        values: dict[str, str | None] = {}
        todo = list(modal.fields)
        while True:
            for fld in todo:
                choices = f" [{'/'.join(v for v, _ in fld.options)}]" if fld.options else ""
                default = f" ({fld.initial})" if fld.initial else (" (optional)" if fld.optional else "")
                answer = self.ask(f"{fld.label}{choices}{default}: ")
                if answer is None:
                    return None
                values[fld.id] = answer.strip() or fld.initial
            try:
                return REGISTRY[modal.verb].submit(values, modal.metadata, inv, self.services)
            except FieldErrors as exc:
                for name, message in exc.errors.items():
                    self.say(f"  {name}: {message}")
                todo = [f for f in modal.fields if f.id in exc.errors]

    def plan_and_confirm(self, draft: Draft, inv: Invocation) -> None:
        proposal = propose(draft, self.services)
        self.show(proposal)
        if not proposal.can_run:
            return
        if self.services.settings.dry_run_only:
            self.say("(Dry run: nothing was changed.)")
            return
        wf: Workflow = self.services.workflow
        req = wf.create(proposal.type, self.user, proposal.params, plan=proposal.changes, channel="shell")
        answer = (self.ask(f"Confirm request #{req.id}? [y/N] ") or "").strip().lower()
        if answer not in ("y", "yes"):
            wf.cancel(req.id, self.user)
            self.say(f"Cancelled request #{req.id}.")
            return
        moved = wf.confirm(req.id, self.user)
        if moved.state == Status.APPROVED:
            self.say(f"Running request #{req.id}…")

    def show(self, proposal: Proposal) -> None:
        self.say(f"Plan: {proposal.summary}")
        for number, change in enumerate(proposal.changes, 1):
            self.say(f"  {number}. {change}")
        for note in proposal.notes:
            self.say(f"  note: {note}")
        for problem in proposal.problems:
            self.say(f"  problem: {user_message(problem)}")
        if proposal.problems:
            self.say("This cannot run until the problems above are fixed; nothing was recorded.")


class ShellNotices:
    """The scheduler's reminders and notes, printed at the prompt."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell

    def approvals_waiting(self, requests: list[RequestView], note: str | None) -> None:
        self.shell.say(f"Reminder: {len(requests)} request(s) wait for approval" + (f" ({note})" if note else ":"))
        for req in requests:
            self.shell.say(f"  #{req.id} {req.summary} — {req.requester}: `/orc approve {req.id}`")

    def failures_waiting(self, requester: str, requests: list[RequestView], note: str | None) -> None:
        self.shell.say(f"Reminder for {requester}: {len(requests)} failed request(s) not retried:")
        for req in requests:
            self.shell.say(f"  #{req.id} {req.summary}: {req.error} — `/orc retry {req.id}`")

    def ran_late(self, request: RequestView, text: str) -> None:
        self.shell.say(f"Request #{request.id}: {text}")


def run(
    settings: Settings,
    user: str | None = None,
    inp: TextIO | None = None,
    out: TextIO | None = None,
    clock: Clock | None = None,
) -> int:
    """Start the shell on an embedded store (DATABASE_URL, SQLite by default), with the
    scheduler running scheduled requests and reminders while it is open (when GitHub is
    configured)."""
    from orcoursetrion.store import open_store

    store = open_store(settings.database_url)
    workflow = Workflow(settings, store)
    tickets = attach(workflow, settings)
    workflow.start_background()
    user = user or (settings.approvers[0] if settings.approvers else SHELL_USER)
    shell = Shell(Services(settings, store, workflow), user, inp or sys.stdin, out or sys.stdout)
    scheduler = Scheduler(settings, store, workflow, ShellNotices(shell), clock=clock)
    if not settings.dry_run_only:  # without a GitHub token a due request could only fail
        scheduler.start()
    try:
        return shell.run()
    finally:
        scheduler.shutdown()
        workflow.shutdown(grace=settings.shutdown_grace)
        if tickets is not None:
            tickets.drain(timeout=10, give_up_on_error=True)
            tickets.stop()
        store.close()
