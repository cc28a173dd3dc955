"""Block Kit builders (slack_sdk's typed models) within Slack's limits: one renderer per
request status, user-typed text kept inert (plain_text, or escaped code spans), long plans
clipped with a pointer to `/orc status`, ids defined once in `bot.ids`."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from commands.base import Field, OpenModal, Reply
from commands.describe import ICONS, facts, heading, links, mention, schedule_line, status_line, when
from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.naming import shown
from orcoursetrion.store import ItemView, RequestView

SECTION_MAX = 3000
HEADER_MAX = 150
METADATA_MAX = 3000
MARKS = {"done": "✓", "now": "▶", "todo": "·", "failed": "✗"}


def escape(text: str | None) -> str:
    """Slack's control characters in text that goes into mrkdwn."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bullets(lines: list[str], limit: int = SECTION_MAX, more: str = "", marks: list[str] | None = None) -> str:
    """One line per item (its mark, or a bullet), ending with '… and N more' when clipped."""
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        entry = f"{marks[index] if marks else '•'} {clip(line, 500)}"
        tail = f"\n… and {len(lines) - index} more{more}"
        if used + len(entry) + 1 + len(tail) > limit:
            out.append(tail.strip())
            break
        out.append(entry)
        used += len(entry) + 1
    return "\n".join(out) or "_nothing to change_"


def mrkdwn(text: str) -> dict:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_MAX))).to_dict()


def plain(text: str) -> dict:
    """A section whose text Slack shows as typed: no mentions, links or formatting."""
    return SectionBlock(text=PlainTextObject(text=clip(text or " ", SECTION_MAX), emoji=False)).to_dict()


def context(*parts: str) -> dict:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(p, 2000)) for p in parts if p][:10]).to_dict()


def button(text: str, action: str, request_id: str, style: str | None = None, confirm: ConfirmObject | None = None):
    """A button about one request: its action_id is unique per request (`orc.approve:12`)."""
    return ButtonElement(
        text=PlainTextObject(text=text),
        action_id=ids.action_id(action, request_id),
        value=request_id,
        style=style,
        confirm=confirm,
    )


def reply_blocks(reply: Reply) -> list[dict]:
    """An ephemeral answer: optional bold title, then the text split into sections."""
    blocks = []
    text = (f"*{reply.title}*\n" if reply.title else "") + reply.text
    while text and len(blocks) < 20:
        chunk = text[:SECTION_MAX]
        if len(text) > SECTION_MAX:
            cut = chunk.rfind("\n")
            chunk = chunk[:cut] if cut > 0 else chunk
        blocks.append(mrkdwn(chunk))
        text = text[len(chunk) :].lstrip("\n")
    return blocks


# -- the request message (plan, progress, result) ---------------------------------------------


def _buttons(req: RequestView) -> list:
    rid = str(req.id)
    state = req.state
    if state == Status.DRAFT:
        warning = req.confirm_warning
        confirm = (
            ConfirmObject(title="Confirm this plan?", text=clip(warning, 300), confirm="Confirm", deny="Back")
            if warning
            else None
        )
        out = [button("Confirm", ids.CONFIRM, rid, "primary", confirm)]
        if req.type == RequestType.RERUN:
            out.append(button("Change term/team", ids.EDIT, rid))
        out.append(button("Cancel", ids.CANCEL, rid))
        return out
    if state in (Status.PENDING_APPROVAL, Status.SCHEDULED, Status.APPROVED):
        return [button("Cancel", ids.CANCEL, rid)]
    if state == Status.FAILED:
        return _retry_or_cancel(rid)
    if state == Status.IN_PROGRESS and req.type == RequestType.ROLLOVER and not req.stop_requested_by:
        confirm = ConfirmObject(
            title="Stop the rollover?",
            text="It stops after the current course; Retry continues.",
            confirm="Stop",
            deny="Keep going",
        )
        return [button("Stop", ids.STOP, rid, "danger", confirm)]
    return []


def _step_marks(req: RequestView, progress: dict | None) -> list[str]:
    """Which planned steps are done, under way, failed or still to come."""
    count = len(req.plan or [])
    state = req.state
    if state == Status.COMPLETED:
        return [MARKS["done"]] * count
    if state not in (Status.IN_PROGRESS, Status.FAILED) or not progress or not progress.get("index"):
        return [MARKS["todo"]] * count
    current = int(progress["index"]) - 1
    now = MARKS["failed"] if state == Status.FAILED else MARKS["now"]
    return [MARKS["done"] if i < current else now if i == current else MARKS["todo"] for i in range(count)]


def request_message(
    req: RequestView,
    items: list[ItemView] | None = None,
    progress: dict | None = None,
    approvers: tuple[str, ...] = (),
    tz: str | None = None,
    ticket: str | None = None,
) -> tuple[str, list[dict]]:
    """The one message that follows a request from plan to result (text fallback, blocks);
    `ticket`: the link to its Zendesk ticket."""
    blocks = [HeaderBlock(text=PlainTextObject(text=clip(req.summary, HEADER_MAX))).to_dict()]
    zendesk = f"<{ticket}|Zendesk #{req.ticket_id}>" if ticket else ""
    blocks.append(context(*facts(req, tz), zendesk))
    plan = list(req.plan or [])
    if plan and items is None:
        marks = None if req.state == Status.DRAFT else _step_marks(req, progress)
        waiting = (Status.DRAFT, Status.PENDING_APPROVAL, Status.SCHEDULED, Status.APPROVED)
        title = "*Plan*" if req.state in waiting else "*Steps*"
        blocks.append(
            mrkdwn(f"{title}\n" + bullets(plan, SECTION_MAX - 10, more=f" (see /orc status {req.id})", marks=marks))
        )
    elif plan:
        blocks.append(mrkdwn("*Courses*\n" + bullets(plan, SECTION_MAX - 12, more=f" (see /orc status {req.id})")))
    for note in (req.notes or [])[:3]:
        blocks.append(context(f":information_source: {note}"))
    if req.confirm_warning and req.state == Status.DRAFT:
        blocks.append(context(f":warning: *{escape(req.confirm_warning)}*"))
    if items is not None:
        blocks.append(mrkdwn(_batch_text(items, progress)))
    blocks.append(mrkdwn(heading(req, progress, approvers, tz)))
    found = links(req)
    if req.state == Status.COMPLETED and found:
        blocks.append(mrkdwn(bullets([f"<{url}>" for url in found], more=f" (see /orc status {req.id})")))
    actions = _buttons(req)
    if actions:
        blocks.append(ActionsBlock(block_id=f"req-{req.id}", elements=actions).to_dict())
    return clip(status_line(req), 3000), blocks


def _batch_text(items: list[ItemView], progress: dict | None) -> str:
    done = [i for i in items if i.status == "done"]
    failed = [i for i in items if i.status == "failed"]
    lines = [f"*{len(done) + len(failed)} of {len(items)}* courses processed — {len(done)} done, {len(failed)} failed"]
    if progress and progress.get("current"):
        lines.append(f"Now: {escape(progress['current'])}")
    if progress and progress.get("paused"):
        lines.append(
            f":double_vertical_bar: Paused {progress['paused']:.0f}s — {escape(progress.get('paused_reason'))}"
        )
    for item in failed[:10]:
        lines.append(f"✗ {escape(item.course)}: {escape(clip(item.error or '', 300))}")
    if len(failed) > 10:
        lines.append(f"… and {len(failed) - 10} more failures")
    return clip("\n".join(lines), SECTION_MAX)


def decision_buttons(req: RequestView, where: str) -> dict:
    """Approve / Reject for one pending request (approval message, App Home, reminders)."""
    return ActionsBlock(
        block_id=f"{where}-{req.id}",
        elements=[
            button("Approve", ids.APPROVE, str(req.id), "primary"),
            button("Reject", ids.REJECT, str(req.id), "danger"),
        ],
    ).to_dict()


def retry_buttons(req: RequestView, where: str) -> dict:
    """Retry / Cancel for one failed request (its message, reminders)."""
    return ActionsBlock(block_id=f"{where}-{req.id}", elements=_retry_or_cancel(str(req.id))).to_dict()


def _retry_or_cancel(rid: str) -> list:
    return [button("Retry", ids.RETRY, rid, "primary"), button("Cancel", ids.CANCEL, rid)]


def approval_message(req: RequestView, approvers: tuple[str, ...] = ()) -> tuple[str, list[dict]]:
    """What approvers see: who is asked, the request, its plan, Approve / Reject (or who decided)."""
    asked = " ".join(mention(a) for a in approvers[:10])
    text = f"{asked} request #{req.id} from {mention(req.requester)} needs approval".strip()
    blocks = [
        mrkdwn(f":raising_hand: {asked + ': ' if asked else ''}{mention(req.requester)} asks (request #{req.id}):"),
        plain(req.summary),
        context(*facts(req)),
        mrkdwn("*Plan*\n" + bullets(list(req.plan or []), SECTION_MAX - 10, more=f" (see /orc status {req.id})")),
    ]
    if req.state == Status.PENDING_APPROVAL:
        blocks.append(decision_buttons(req, "approve"))
    elif req.state in (Status.REJECTED, Status.CANCELLED):
        blocks.append(context(heading(req)))
    else:  # approved, and since then running or finished
        now = "" if req.state == Status.APPROVED else f" — now {req.state.label}"
        blocks.append(context(f"{ICONS[Status.APPROVED]} Approved by {mention(req.decided_by)}{now}"))
    return clip(text, 3000), blocks


def announcement(req: RequestView) -> tuple[str, list[dict]]:
    """The result, told once in the request's thread (and the channel)."""
    who = mention(req.requester)
    if req.state == Status.COMPLETED:
        found = links(req)
        shown_links = " ".join(f"<{url}>" for url in found[:20]) + (
            f" and {len(found) - 20} more" if len(found) > 20 else ""
        )
        text = f":tada: {who} request #{req.id} is done: {escape((req.result or {}).get('message') or req.summary)}"
        return clip(text + (f"\n{shown_links}" if shown_links else ""), 3000), [mrkdwn(text)] + (
            [mrkdwn(bullets([f"<{u}>" for u in found]))] if found else []
        )
    if req.state == Status.FAILED:
        text = f":x: {who} request #{req.id} failed" + (f" at {req.error_step}" if req.error_step else "")
        text += f": {req.error}\nFinished steps are kept; press *Retry* on the request to continue."
        return clip(text, 3000), [mrkdwn(text)]
    text = f":no_entry: {who} request #{req.id} was rejected by {mention(req.decided_by)}. Reason:"
    return clip(f"{text} {escape(req.reason)}", 3000), [mrkdwn(text), plain(req.reason or "No reason given.")]


# -- forms -------------------------------------------------------------------------------------


def _element(field: Field):
    if field.kind == "radio":
        options = [Option(value=v, label=clip(label, 75)) for v, label in field.options]
        initial = next((o for o in options if o.value == field.initial), None)
        return RadioButtonsElement(action_id=field.id, options=options, initial_option=initial)
    if field.kind == "date":
        return DatePickerElement(action_id=field.id, initial_date=field.initial)
    return PlainTextInputElement(
        action_id=field.id,
        multiline=field.kind == "textarea",
        max_length=min(field.max_length, 3000),
        initial_value=field.initial or None,
        placeholder=PlainTextObject(text=clip(field.placeholder, 150)) if field.placeholder else None,
    )


def modal_view(modal: OpenModal, metadata: str, problems: dict[str, str] | None = None) -> dict:
    """A verb's form as a modal; `metadata` is the signed private_metadata. `problems`
    (field id -> text) are shown above the form when it comes back after slower checks."""
    blocks = [mrkdwn(modal.intro)] if modal.intro else []
    for name, text in (problems or {}).items():
        blocks.append(context(f":warning: *{escape(name)}*: {text}"))
    for field in modal.fields:
        blocks.append(
            InputBlock(
                block_id=field.id,
                label=PlainTextObject(text=clip(field.label, 2000)),
                element=_element(field),
                optional=field.optional,
                hint=PlainTextObject(text=clip(field.hint, 2000)) if field.hint else None,
            )
        )
    if len(metadata) > METADATA_MAX:
        raise ValueError("modal metadata too large")
    return View(
        type="modal",
        callback_id=ids.FORM,
        title=PlainTextObject(text=clip(modal.title, 24)),
        submit=PlainTextObject(text=clip(modal.submit_label, 24)),
        close=PlainTextObject(text="Cancel"),
        private_metadata=metadata,
        blocks=blocks,
    ).to_dict()


def notice_view(title: str, text: str) -> dict:
    """A modal that only says something (the form's answer after its slower checks)."""
    return View(
        type="modal",
        title=PlainTextObject(text=clip(title, 24)),
        close=PlainTextObject(text="Close"),
        blocks=[mrkdwn(text)],
    ).to_dict()


def reject_view(req: RequestView, metadata: str) -> dict:
    """The reason form (`metadata`: the signed request id, and whether it came from App Home)."""
    return View(
        type="modal",
        callback_id=ids.REJECT_REASON,
        title=PlainTextObject(text="Reject request"),
        submit=PlainTextObject(text="Reject"),
        close=PlainTextObject(text="Back"),
        private_metadata=metadata,
        blocks=[
            mrkdwn(f"Reject request #{req.id} from {mention(req.requester)}?"),
            plain(req.summary),
            InputBlock(
                block_id=ids.REASON_BLOCK,
                label=PlainTextObject(text="Reason (sent to the requester)"),
                element=PlainTextInputElement(
                    action_id=ids.REASON_BLOCK, multiline=True, max_length=2000, min_length=3
                ),
            ),
        ],
    ).to_dict()


# -- App Home -----------------------------------------------------------------------------------


def home_view(
    user: str,
    mine: list[RequestView],
    pending: list[RequestView] | None,
    tz: str | None,
    ticket: Callable[[RequestView], str | None] | None = None,
    upcoming: list[RequestView] | None = None,
) -> dict:
    """`ticket`: a request's Zendesk link, shown after it when there is one; `upcoming`: the
    scheduled requests to list."""

    def link(req: RequestView) -> str:
        url = ticket(req) if ticket else None
        return f" · <{url}|Zendesk #{req.ticket_id}>" if url else ""

    blocks = [
        HeaderBlock(text=PlainTextObject(text="Course provisioning")).to_dict(),
        mrkdwn("Type `/orc help` in any channel to see what I can do."),
    ]
    blocks.append(DividerBlock().to_dict())
    blocks.append(mrkdwn("*Your requests*"))
    if not mine:
        blocks.append(context("None yet. Try `/orc new` or `/orc rerun 8.01r Fall_2030`."))
    for req in mine[:10]:
        blocks.append(mrkdwn(f"{status_line(req)}{link(req)}\n_{when(req.updated_at, tz)}_"))
    if upcoming:
        lines = [schedule_line(r, tz, requester=r.requester != user) for r in upcoming]
        blocks.append(DividerBlock().to_dict())
        blocks.append(mrkdwn("*Scheduled*\n" + bullets(lines, SECTION_MAX - 12, more=" (see /orc schedule list)")))
    if pending is not None:
        blocks.append(DividerBlock().to_dict())
        blocks.append(mrkdwn(f"*Waiting for approval* ({len(pending)})"))
        if not pending:
            blocks.append(context("Nothing to approve. :sparkles:"))
        for req in pending[:20]:
            blocks.append(
                mrkdwn(f"*#{req.id}* {shown(req.summary, 150)} — {mention(req.requester)}, {when(req.created_at, tz)}")
            )
            blocks.append(decision_buttons(req, "home"))
    return View(type="home", blocks=blocks[:100]).to_dict()
