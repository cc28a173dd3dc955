"""Block Kit builders (slack_sdk's typed models), kept inside Slack's limits: long plans
are clipped with a pointer to `/orc status`, text is escaped, ids are constants."""

from __future__ import annotations

import json

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
from commands.describe import ICONS, schedule_line, scheduled_time, status_line, when
from orcoursetrion.lifecycle import RequestType, Status
from orcoursetrion.store import ItemView, RequestView

SECTION_MAX = 3000
HEADER_MAX = 150
METADATA_MAX = 3000


def escape(text: str | None) -> str:
    """Slack's control characters in user-supplied text."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bullets(lines: list[str], limit: int = SECTION_MAX, more: str = "") -> str:
    """A bullet list that fits one section, ending with '… and N more' when clipped."""
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        entry = f"• {clip(line, 500)}"
        tail = f"\n… and {len(lines) - index} more{more}"
        if used + len(entry) + 1 + len(tail) > limit:
            out.append(tail.strip())
            break
        out.append(entry)
        used += len(entry) + 1
    return "\n".join(out) or "_nothing to change_"


def mrkdwn(text: str) -> dict:
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_MAX))).to_dict()


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
        out = [button("Confirm", ids.CONFIRM, rid, "primary")]
        if req.type == RequestType.RERUN:
            out.append(button("Change term/team", ids.EDIT, rid))
        out.append(button("Cancel", ids.CANCEL, rid))
        return out
    if state in (Status.PENDING_APPROVAL, Status.SCHEDULED, Status.APPROVED):
        return [button("Cancel", ids.CANCEL, rid)]
    if state == Status.FAILED:
        return [button("Retry", ids.RETRY, rid, "primary"), button("Cancel", ids.CANCEL, rid)]
    if state == Status.IN_PROGRESS and req.type == RequestType.ROLLOVER and not req.stop_requested_by:
        confirm = ConfirmObject(
            title="Stop the rollover?",
            text="It stops after the current course; Retry continues.",
            confirm="Stop",
            deny="Keep going",
        )
        return [button("Stop", ids.STOP, rid, "danger", confirm)]
    return []


def _status_text(req: RequestView) -> str:
    state = req.state
    at = f" It runs {scheduled_time(req)}." if req.scheduled_for else ""
    if state == Status.DRAFT:
        return f"Check the plan, then *Confirm* (nothing has changed yet).{at}"
    if state == Status.PENDING_APPROVAL:
        return f"Confirmed. Waiting for an approver.{at}"
    if state == Status.SCHEDULED:
        by = f" (approved by <@{req.decided_by}>)" if req.decided_by and req.decided_by != req.requester else ""
        return f"Scheduled{by}.{at} The plan is checked again then; *Cancel* stops it before."
    if state == Status.APPROVED:
        by = f" by <@{req.decided_by}>" if req.decided_by and req.decided_by != req.requester else ""
        return f"Approved{by}; starting…"
    if state == Status.IN_PROGRESS:
        return "Working on it…" + (f" (stop requested by <@{req.stop_requested_by}>)" if req.stop_requested_by else "")
    if state == Status.COMPLETED:
        return escape((req.result or {}).get("message") or "Done.")
    if state == Status.FAILED:
        step = f"\n_Step:_ {escape(req.error_step)}" if req.error_step else ""
        return f"*Failed:* {escape(req.error)}{step}\nFinished steps are kept; *Retry* continues from here."
    if state == Status.REJECTED:
        return f"Rejected by <@{req.decided_by}>: {escape(req.reason)}"
    return f"Cancelled{f' by <@{req.decided_by}>' if req.decided_by else ''}."


def request_message(
    req: RequestView,
    done_steps: list[str] | None = None,
    items: list[ItemView] | None = None,
    progress: dict | None = None,
    notes: list[str] | None = None,
) -> tuple[str, list[dict]]:
    """The one message that follows a request from plan to result (text fallback, blocks)."""
    state = req.state
    blocks = [HeaderBlock(text=PlainTextObject(text=clip(f"{req.summary}", HEADER_MAX))).to_dict()]
    blocks.append(context(f"{ICONS[state]} *{state.label}*", f"Request #{req.id}", f"by <@{req.requester}>"))
    plan = list(req.plan or [])
    if state in (Status.IN_PROGRESS, Status.COMPLETED, Status.FAILED) and done_steps:
        blocks.append(mrkdwn("*Done so far:*\n" + bullets(done_steps, more=f" (see /orc status {req.id})")))
    elif plan:
        title = "*Plan*" if state == Status.DRAFT else "*Plan (as confirmed)*"
        blocks.append(
            mrkdwn(f"{title}\n" + bullets(plan, SECTION_MAX - len(title) - 1, more=f" (see /orc status {req.id})"))
        )
    for note in (notes or [])[:3]:
        blocks.append(context(f":information_source: {note}"))
    if items is not None:
        blocks.append(mrkdwn(_batch_text(items, progress)))
    blocks.append(mrkdwn(_status_text(req)))
    links = (req.result or {}).get("links") or []
    if state == Status.COMPLETED and links:
        blocks.append(mrkdwn(bullets([f"<{url}>" for url in links], more=f" (see /orc status {req.id})")))
    actions = _buttons(req)
    if actions:
        blocks.append(ActionsBlock(block_id=f"req-{req.id}", elements=actions).to_dict())
    return clip(f"{status_line(req)}", 3000), blocks


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
    """Approve / Reject for one pending request (approval message, App Home)."""
    return ActionsBlock(
        block_id=f"{where}-{req.id}",
        elements=[
            button("Approve", ids.APPROVE, str(req.id), "primary"),
            button("Reject", ids.REJECT, str(req.id), "danger"),
        ],
    ).to_dict()


def approval_message(req: RequestView) -> tuple[str, list[dict]]:
    """What approvers see: the request, its plan, Approve / Reject (or who decided)."""
    text = f"Request #{req.id} from <@{req.requester}> needs approval: {req.summary}"
    blocks = [
        mrkdwn(f":raising_hand: <@{req.requester}> asks: *{escape(req.summary)}* (request #{req.id})"),
        mrkdwn("*Plan*\n" + bullets(list(req.plan or []), SECTION_MAX - 10, more=f" (see /orc status {req.id})")),
    ]
    if req.scheduled_for:
        blocks.append(context(f":calendar: Runs {scheduled_time(req)}"))
    if req.state == Status.PENDING_APPROVAL:
        blocks.append(decision_buttons(req, "approve"))
    elif req.state in (Status.REJECTED, Status.CANCELLED):
        blocks.append(
            context(f"{ICONS[req.state]} {req.state.label}" + (f" by <@{req.decided_by}>" if req.decided_by else ""))
        )
    else:  # approved, and since then running or finished
        by = f" by <@{req.decided_by}>" if req.decided_by else ""
        now = "" if req.state == Status.APPROVED else f" — now {req.state.label}"
        blocks.append(context(f"{ICONS[Status.APPROVED]} Approved{by}{now}"))
    return clip(text, 3000), blocks


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


def modal_view(modal: OpenModal) -> dict:
    """A verb's form as a modal; the verb and its metadata ride in private_metadata."""
    blocks = [mrkdwn(modal.intro)] if modal.intro else []
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
    metadata = json.dumps({"verb": modal.verb, **modal.metadata})
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


def reject_view(req: RequestView, from_home: bool = False) -> dict:
    """The reason form; `from_home` asks the submission to refresh the approver's Home."""
    return View(
        type="modal",
        callback_id=ids.REJECT_REASON,
        title=PlainTextObject(text="Reject request"),
        submit=PlainTextObject(text="Reject"),
        close=PlainTextObject(text="Back"),
        private_metadata=json.dumps({"request": req.id, "home": from_home}),
        blocks=[
            mrkdwn(f"Reject *{escape(req.summary)}* (request #{req.id}) from <@{req.requester}>?"),
            InputBlock(
                block_id=ids.REASON_BLOCK,
                label=PlainTextObject(text="Reason (sent to the requester)"),
                element=PlainTextInputElement(
                    action_id=ids.REASON_BLOCK, multiline=True, max_length=2000, min_length=3
                ),
            ),
        ],
    ).to_dict()


def form_values(state: dict) -> dict[str, str | None]:
    """A submitted view's state.values as {field id: value}."""
    values: dict[str, str | None] = {}
    for block_id, actions in (state or {}).get("values", {}).items():
        for element in actions.values():
            kind = element.get("type")
            if kind == "plain_text_input":
                values[block_id] = element.get("value")
            elif kind in ("radio_buttons", "static_select"):
                option = element.get("selected_option")
                values[block_id] = option.get("value") if option else None
            elif kind == "datepicker":
                values[block_id] = element.get("selected_date")
    return values


# -- App Home -----------------------------------------------------------------------------------


def home_view(
    user: str,
    mine: list[RequestView],
    pending: list[RequestView] | None,
    tz: str | None,
    upcoming: list[RequestView] | None = None,
) -> dict:
    blocks = [
        HeaderBlock(text=PlainTextObject(text="Course provisioning")).to_dict(),
        mrkdwn("Type `/orc help` in any channel to see what I can do."),
    ]
    blocks.append(DividerBlock().to_dict())
    blocks.append(mrkdwn("*Your requests*"))
    if not mine:
        blocks.append(context("None yet. Try `/orc new` or `/orc rerun 8.01r Fall_2030`."))
    for req in mine[:10]:
        blocks.append(mrkdwn(f"{status_line(req)}\n_{when(req.updated_at, tz)}_"))
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
            blocks.append(mrkdwn(f"*#{req.id}* {escape(req.summary)} — <@{req.requester}>, {when(req.created_at, tz)}"))
            blocks.append(decision_buttons(req, "home"))
    return View(type="home", blocks=blocks[:100]).to_dict()
