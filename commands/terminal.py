"""Slack's mrkdwn as a terminal shows it: links as text with their URL, user ids as names,
emoji as glyphs, bold as bold (on a colour terminal), escapes undone."""

from __future__ import annotations

import re
from collections.abc import Callable

EMOJI = {
    ":memo:": "📝",
    ":hourglass_flowing_sand:": "⏳",
    ":white_check_mark:": "✅",
    ":gear:": "⚙",
    ":tada:": "🎉",
    ":x:": "❌",
    ":no_entry:": "⛔",
    ":no_entry_sign:": "🚫",
    ":heavy_multiplication_x:": "✖",
    ":warning:": "⚠",
    ":information_source:": "ℹ",
    ":double_vertical_bar:": "⏸",
    ":raising_hand:": "🙋",
    ":sparkles:": "✨",
    ":calendar:": "📅",
    ":bell:": "🔔",
    ":clock3:": "🕒",
}
_ANGLE = re.compile(r"<([^<>\s|]+)(?:\|([^<>]*))?>")
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_([^_\n]+)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]*)`")
_EMOJI = re.compile(r":[a-z0-9_+-]+:")


def render(text: str, name: Callable[[str], str] | None = None, colour: bool = False) -> str:
    """`text` (Slack mrkdwn) for a terminal; `name` turns a user id into a name."""

    def angle(match: re.Match) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + (name(target[1:]) if name else target[1:])
        if target.startswith("#"):
            return label or target
        if target.startswith("!"):
            return "@" + target[1:].split("^", 1)[0]
        return f"{label} ({target})" if label else target

    out = _ANGLE.sub(angle, text)
    out = _CODE.sub(lambda m: f"'{m.group(1)}'", out)
    out = _BOLD.sub((lambda m: f"\033[1m{m.group(1)}\033[0m") if colour else (lambda m: m.group(1)), out)
    out = _ITALIC.sub(lambda m: m.group(1), out)
    out = _EMOJI.sub(lambda m: EMOJI.get(m.group(0), m.group(0)), out)
    return out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
