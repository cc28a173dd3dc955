"""A local, Slack-like prompt: type `/orc ...` lines, see the bot's replies as a terminal
shows them, and answer its questions at the prompt — the same verbs, plans, approvals and
store as in Slack (like Errbot's text backend). With no GitHub token every verb still walks
its whole flow: Confirm records the request and runs it as a dry run."""

from __future__ import annotations

import sys
from typing import TextIO

from commands import REGISTRY, Draft, FieldErrors, Invocation, OpenModal, Reply, Services, dispatch
from commands.describe import heading
from commands.planning import Proposal, propose
from commands.terminal import render
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
BANNER = """orcoursetrion local shell. Type /orc help (the leading /orc is optional).
  /as USERID   act as someone else (an approver's id from ORC_APPROVERS approves)
  /quit        leave (or Ctrl-D); Ctrl-C cancels the form or question you are in"""


class Cancelled(Exception):
    """Ctrl-C inside a form or a question: that form is dropped, the shell goes on."""


class Shell:
    """Reads commands from `inp`, writes replies to `out`; the same verbs and workflow as Slack."""

    def __init__(self, services: Services, user: str, inp: TextIO, out: TextIO) -> None:
        self.services, self.user, self.inp, self.out = services, user, inp, out
        self.colour = bool(getattr(out, "isatty", lambda: False)())
        services.workflow.subscribe(self._on_event, "shell")

    # -- i/o -------------------------------------------------------------------------------------
    def say(self, text: str = "") -> None:
        self.out.write(render(plain_dates(text), colour=self.colour) + "\n")
        self.out.flush()

    def ask(self, prompt: str) -> str | None:
        """One line from the user (None at end of input); Ctrl-C raises Cancelled."""
        self.out.write(prompt)
        self.out.flush()
        try:
            line = self.inp.readline()
        except KeyboardInterrupt:
            self.out.write("\n")
            raise Cancelled() from None
        if not line:
            return None
        if not self.inp.isatty():
            self.out.write(line if line.endswith("\n") else line + "\n")
        return line.rstrip("\n")

    def whoami(self) -> str:
        role = " (approver)" if self.services.is_approver(self.user) else ""
        return f"acting as {self.user}{role}"

    def _on_event(self, event: Event) -> None:
        req = event.request
        if event.kind == "step_started":
            self.say(f"  ▶ step {event.data.get('index')} of {event.data.get('total')}: {event.text}")
        elif event.kind == "step":
            self.say(f"  {'✓' if event.data.get('changed', True) else '·'} {event.text}")
        elif event.kind == "waiting":
            self.say(f"  ⏸ waiting {event.data.get('seconds', 0):.0f} s: {event.text}")
        elif event.kind == "progress":
            d = event.data
            now = f" — {d['current']}" if d.get("current") else ""
            self.say(f"  [{d['done'] + len(d['failed'])}/{d['total']}]{now}")
        elif event.kind in ("completed", "failed", "rejected", "cancelled", "pending_approval", "scheduled"):
            self.say(f"Request #{req.id}: {heading(req, approvers=self.services.settings.approvers)}")
            if event.kind == "completed":
                for link in (req.result or {}).get("links") or []:
                    self.say(f"  {link}")
            if event.kind == "failed":
                self.say(f"  (type `/orc retry {req.id}` to continue)")
            if event.kind == "pending_approval":
                self.say(f"  (an approver types `/orc approve {req.id}`)")

    # -- loop ------------------------------------------------------------------------------------
    def run(self) -> int:
        self.say(BANNER)
        self.say(f"You are {self.whoami()}.")
        if self.services.settings.dry_run_only:
            self.say(
                "GitHub is not configured (no ORC_GH_OAUTH2_TOKEN or GitHub App): every request runs as a dry run; "
                "nothing is changed on GitHub."
            )
        while True:
            try:
                line = self.ask(PROMPT)
            except Cancelled:
                self.say("(Ctrl-C: nothing to cancel here; /quit or Ctrl-D leaves.)")
                continue
            if line is None or line.strip() in ("/quit", "/exit", "quit", "exit"):
                self.say("\nBye." if line is None else "Bye.")
                return 0
            line = line.strip()
            if not line:
                continue
            if line.startswith("/as"):
                self.user = line[3:].strip() or self.user
                self.say(f"You are now {self.whoami()}.")
                continue
            if line.startswith("/orc"):
                line = line[4:].strip()
            try:
                self.handle(line)
            except Cancelled:
                self.say("Cancelled.")
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
        """Ask each form field at the prompt; re-ask only the ones the verb rejects."""
        self.say(f"*{modal.title}*" + (f" — {modal.intro}" if modal.intro else ""))
        values: dict[str, str | None] = {f.id: f.initial for f in modal.fields}
        todo = list(modal.fields)
        while True:
            for fld in todo:
                choices = f" [{'/'.join(v for v, _ in fld.options)}]" if fld.options else ""
                default = f" ({values[fld.id]})" if values[fld.id] else (" (optional)" if fld.optional else "")
                answer = self.ask(f"{fld.label}{choices}{default}: ")
                if answer is None:
                    return None
                values[fld.id] = answer.strip() or values[fld.id]
            try:
                return REGISTRY[modal.verb].submit(values, modal.metadata, inv, self.services)
            except FieldErrors as exc:
                for name, message in exc.errors.items():
                    self.say(f"  {name}: {message}")
                for fld in modal.fields:
                    if fld.id in exc.errors:
                        values[fld.id] = None
                todo = [f for f in modal.fields if f.id in exc.errors]

    def plan_and_confirm(self, draft: Draft, inv: Invocation) -> None:
        proposal = propose(draft, self.services)
        self.show(proposal)
        if not proposal.can_run:
            return
        wf: Workflow = self.services.workflow
        req = wf.create(
            proposal.type,
            self.user,
            proposal.params,
            plan=proposal.changes,
            channel="shell",
            notes=proposal.notes,
            confirm_warning=proposal.confirm_warning,
        )
        question = f"Confirm request #{req.id}? [y/N] "
        if proposal.confirm_warning:
            question = f"{proposal.confirm_warning}\nType yes to confirm request #{req.id}: "
        try:
            answer = (self.ask(question) or "").strip().lower()
        except Cancelled:
            answer = ""
        if answer not in (("yes",) if proposal.confirm_warning else ("y", "yes")):
            wf.cancel(req.id, self.user)
            self.say(f"Cancelled request #{req.id}.")
            return
        moved = wf.confirm(req.id, self.user)
        if moved.state == Status.APPROVED:
            dry = " as a dry run" if self.services.settings.dry_run_only else ""
            self.say(f"Running request #{req.id}{dry}…")

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
    """Start the shell on an embedded store (DATABASE_URL, the user data directory by default),
    with the scheduler running scheduled requests and reminders while it is open (when GitHub
    is configured: a dry run must never stand in for a scheduled release)."""
    from orcoursetrion.actions import dry_context
    from orcoursetrion.store import open_store

    store = open_store(settings.database_url)
    workflow = Workflow(settings, store, context_factory=dry_context if settings.dry_run_only else None)
    tickets = attach(workflow, settings)
    workflow.start_background()
    user = user or (settings.approvers[0] if settings.approvers else SHELL_USER)
    shell = Shell(Services(settings, store, workflow), user, inp or sys.stdin, out or sys.stdout)
    scheduler = Scheduler(settings, store, workflow, ShellNotices(shell), clock=clock)
    if not settings.dry_run_only:  # without a GitHub token a due request would only be a dry run
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
