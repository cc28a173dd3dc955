"""The shapes every /orc verb shares: what it receives, what it answers, how it is declared.

Verbs are Slack-agnostic: they return a `Reply` (text), a `Draft` (a request to plan
and confirm) or an `OpenModal` (form fields). The bot renders these as Block Kit, the
local shell as text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from orcoursetrion.actions import Context, plan_context
from orcoursetrion.config import Settings
from orcoursetrion.edx import Edx
from orcoursetrion.journal import PlanJournal
from orcoursetrion.store import Store
from orcoursetrion.workflow import Workflow


@dataclass
class Services:
    """What verbs may use: settings, the store, the workflow, optional edX."""

    settings: Settings
    store: Store
    workflow: Workflow
    edx: Edx | None = None

    def plan_ctx(self) -> Context:
        ctx = plan_context(self.settings, pacer=self.workflow.pacer, journal=PlanJournal(self.store))
        if ctx.world.gh is not None:
            ctx.world.gh.on_request = self.workflow.metrics.github_request
        return ctx

    def is_approver(self, user: str | None) -> bool:
        return self.settings.is_approver(user)


@dataclass
class Invocation:
    """Who ran a verb, where, with which words."""

    user: str
    args: list[str]
    channel: str | None = None
    user_name: str | None = None
    timezone: str | None = None


@dataclass
class Reply:
    """Text shown only to the user (Slack mrkdwn; the shell prints it as is)."""

    text: str
    title: str | None = None
    request_ids: list[int] = field(default_factory=list)


@dataclass
class Draft:
    """A request to plan, show and confirm."""

    type: str
    params: dict


@dataclass
class Field:
    """One modal input. `kind`: text, textarea, radio, date."""

    id: str
    label: str
    kind: str = "text"
    optional: bool = False
    hint: str | None = None
    placeholder: str | None = None
    initial: str | None = None
    options: list[tuple[str, str]] = field(default_factory=list)
    max_length: int = 200


@dataclass
class OpenModal:
    """Ask for input in a form; submitted values go to the verb's `submit`."""

    verb: str
    title: str
    fields: list[Field]
    submit_label: str = "Plan"
    metadata: dict = field(default_factory=dict)
    intro: str | None = None


class FieldErrors(Exception):
    """Form values that cannot be accepted, by field id (shown inline in the modal)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


Outcome = Reply | Draft | OpenModal
Handler = Callable[[Invocation, Services], Outcome]
Submit = Callable[[dict, dict, Invocation, Services], Draft]


@dataclass(frozen=True)
class Verb:
    """A /orc verb, declared once; help text, CLI help and modal titles read from here."""

    name: str
    usage: str
    example: str
    summary: str
    handle: Handler
    submit: Submit | None = None
    approvers_only: bool = False
    mutating: bool = True
    examples: tuple[str, ...] = ()  # more examples for `/orc help VERB`

    @property
    def who(self) -> str:
        return "approvers" if self.approvers_only else "anyone"
