"""Action and view callback ids, defined once."""

CONFIRM = "orc.confirm"
CANCEL = "orc.cancel"
APPROVE = "orc.approve"
REJECT = "orc.reject"
RETRY = "orc.retry"
EDIT = "orc.edit"
STOP = "orc.stop"
BUTTONS = (CONFIRM, CANCEL, APPROVE, REJECT, RETRY, EDIT, STOP)

FORM = "orc.form"  # callback id of every verb form; the verb is in private_metadata
REJECT_REASON = "orc.reject_reason"
REASON_BLOCK = "reason"


def action_id(action: str, request_id: int | str) -> str:
    """Buttons carry the request in their action_id too, so ids stay unique in a view."""
    return f"{action}:{request_id}"


def matcher(action: str):
    """The Bolt matcher for every button of one action."""
    import re

    return re.compile(rf"^{re.escape(action)}:[0-9]{{1,9}}$")
