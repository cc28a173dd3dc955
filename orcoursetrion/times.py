"""Wall-clock times as people type and read them: a local date and time read in a named
IANA zone (refusing times that do not exist or happen twice), shown back with the zone,
and as Slack's `<!date^…>` token so every reader sees it in their own zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orcoursetrion.errors import ValidationError

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


def zone(name: str | None, fallback: str = "UTC") -> ZoneInfo:
    """The zone called `name`, else `fallback` (Slack may report no zone, or an odd one)."""
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def check_zone(name: str, field: str = "tz") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            field, f"'{name[:60]}' is not a time zone; use an IANA name like America/New_York."
        ) from None
    return name


def parse_local(day: str, clock: str, tz: str, now: datetime, field: str = "at") -> datetime:
    """`YYYY-MM-DD` and `HH:MM` on the wall clock of `tz`, as an aware UTC datetime.

    Refuses malformed input, a time in the past (relative to `now`), a local time the
    clocks skip (spring forward) and one they show twice (fall back)."""
    example = "e.g. 2030-09-01 09:00 (24-hour clock)"
    d, t = _DATE.match(day or ""), _TIME.match(clock or "")
    if d is None or t is None:
        raise ValidationError(field, f"Give the date and time as YYYY-MM-DD HH:MM, {example}.")
    try:
        naive = datetime(int(d[1]), int(d[2]), int(d[3]), int(t[1]), int(t[2]))
    except ValueError:
        raise ValidationError(field, f"{day} {clock} is not a real date and time; {example}.") from None
    place = ZoneInfo(check_zone(tz, field))
    early, late = naive.replace(tzinfo=place, fold=0), naive.replace(tzinfo=place, fold=1)
    if early.astimezone(UTC).astimezone(place).replace(tzinfo=None) != naive:
        raise ValidationError(
            field,
            f"{day} {clock} does not exist in {tz}: the clocks skip that hour (daylight saving). Pick another time.",
        )
    if early.utcoffset() != late.utcoffset():
        raise ValidationError(
            field,
            f"{day} {clock} happens twice in {tz} (the clocks go back that night). Pick a time outside that hour.",
        )
    moment = early.astimezone(UTC)
    if moment <= now:
        raise ValidationError(
            field, f"{local_text(moment, tz)} is in the past (it is now {local_text(now, tz)}); give a later time."
        )
    return moment


def local_text(moment: datetime, tz: str | None) -> str:
    """`2030-09-01 09:00 EDT` on the wall clock of `tz`."""
    return moment.astimezone(zone(tz)).strftime("%Y-%m-%d %H:%M %Z")


def slack_date(moment: datetime, tz: str | None) -> str:
    """Slack's date token: each reader sees the time in their own zone; the fallback
    (for notifications and old clients) is the time in `tz`, zone named."""
    epoch = int(moment.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{local_text(moment, tz)}>"


YOUR_TIME = " · your time: "
_TOKEN = re.compile(r"<!date\^[^|>]*\|([^>]*)>")
_YOURS = re.compile(re.escape(YOUR_TIME) + r"<!date\^[^|>]*\|[^>]*>")


def plain_dates(text: str) -> str:
    """Slack date tokens as their fallback text (for the shell and the CLI), and "your
    time" tokens dropped, as they repeat the time just given."""
    return _TOKEN.sub(r"\1", _YOURS.sub("", text))


def shown(moment: datetime, tz: str | None) -> str:
    """The time for Slack text: on the clock of the zone it was given in (zone named), then
    as Slack's date token, which each reader sees in their own zone."""
    return f"{local_text(moment, tz)} ({zone(tz).key}){YOUR_TIME}{slack_date(moment, tz)}"


def duration(delta: timedelta) -> str:
    """`3 h 12 min`, `45 s`: how late, for people."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if minutes and not days:
        parts.append(f"{minutes} min")
    if not parts:
        parts.append(f"{secs} s")
    return " ".join(parts)


def next_daily(at: str, tz: str, after: datetime) -> datetime:
    """The first `HH:MM` on the wall clock of `tz` strictly after `after` (UTC). A time
    the clocks skip that day moves forward with them; a repeated one is its first pass."""
    hour, minute = (int(x) for x in at.split(":"))
    place = zone(tz)
    local = after.astimezone(place)
    for days in range(0, 3):
        day = (local + timedelta(days=days)).date()
        naive = datetime(day.year, day.month, day.day, hour, minute)
        moment = naive.replace(tzinfo=place, fold=0).astimezone(UTC)
        if moment > after:
            return moment
    raise AssertionError("no daily time within three days")


def parse_iso(value: object) -> datetime | None:
    """A timestamp as GitHub and Zendesk write it (`2030-09-01T09:00:00Z`), or a datetime
    (naive taken as UTC); None for anything else."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
