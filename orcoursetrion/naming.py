"""Input validation and the naming scheme, as pure functions (no I/O)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from orcoursetrion.errors import ValidationError

COURSE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
TERM_RE = re.compile(r"^([A-Za-z]+)_([0-9]{4})$")
# GitHub: alphanumerics or single hyphens, no leading/trailing hyphen, at most 39 characters.
LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
TEAM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")
ORG_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
MAX_DESCRIPTION = 350  # GitHub's limit for repository descriptions
MAX_TITLE = 200
MAX_MEMBERS = 100


def shown(value: object, limit: int = 40) -> str:
    """Text someone typed (or a repository holds) shown back as an inert code span: Slack's
    control characters escaped, a backtick cannot close the span, no line breaks."""
    text = str(value)
    clipped = text if len(text) <= limit else text[: limit - 1] + "…"
    clipped = clipped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("`", "ˋ")
    clipped = re.sub(r"[\x00-\x1f\x7f]+", " ", clipped)
    return f"`{clipped}`" if clipped.strip() else "`(empty)`"


def check_course(course: str | None) -> str:
    value = (course or "").strip()
    if not COURSE_RE.match(value):
        raise ValidationError(
            "course",
            "Course id must start with a letter or digit and use only letters, digits, '.', '_' or '-' "
            "(at most 40 characters), like 8.01r.",
        )
    return value


def check_term(term: str | None, field: str = "term") -> str:
    value = (term or "").strip()
    if not TERM_RE.match(value):
        raise ValidationError(field, "Term must look like Season_Year, for example Fall_2030.")
    return value


def check_login(login: str) -> str:
    value = login.strip().lstrip("@")
    if not LOGIN_RE.match(value):
        raise ValidationError(
            "members",
            f"{shown(value)} is not a valid GitHub login (letters, digits and single hyphens, at most 39).",
        )
    return value


def check_members(members: Iterable[str] | None) -> list[str] | None:
    """Validate and de-duplicate logins (case-insensitively, keeping the first spelling).

    None means "leave the membership as it is"; a list that holds no login at all
    (`-m ""`, `-m ","`) is refused rather than read as "remove everyone"."""
    if members is None:
        return None
    if isinstance(members, str):
        members = [members]
    seen: dict[str, str] = {}
    for raw in members:
        for part in re.split(r"[\s,]+", raw or ""):
            if part:
                login = check_login(part)
                seen.setdefault(login.lower(), login)
    if not seen:
        raise ValidationError(
            "members", "Give at least one GitHub login, or leave the members out to keep the team as it is."
        )
    if len(seen) > MAX_MEMBERS:
        raise ValidationError("members", f"At most {MAX_MEMBERS} team members can be given at once.")
    return list(seen.values())


def check_description(text: str | None, field: str = "description", limit: int = MAX_DESCRIPTION) -> str | None:
    if text is None:
        return None
    value = " ".join(text.split())
    if len(value) > limit:
        raise ValidationError(field, f"The {field} is too long ({len(value)} characters; at most {limit}).")
    return value or None


def check_team(team: str | None) -> str | None:
    if team is None:
        return None
    value = team.strip()
    if not TEAM_RE.match(value):
        raise ValidationError("team", "Team names use letters, digits, spaces, '.', '_' or '-' (at most 100).")
    return value


def check_org(org: str) -> str:
    value = (org or "").strip()
    if not ORG_RE.match(value):
        raise ValidationError("org", "Organization must be a GitHub organization login.")
    return value


def repo_name(prefix: str, course: str, term: str) -> str:
    """`{prefix}-{course without dots}-{term}`, the original naming scheme."""
    return f"{prefix}-{course.replace('.', '')}-{term}"


def team_slug(name: str) -> str:
    """GitHub's slug for a team name: lowercase, runs of other characters become '-'."""
    return re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-")


def normalize_term(term: str | None, seasons: Sequence[str], field: str = "term") -> str:
    """A term as typed (`fall_2030`, `FALL_2030`) in the `Season_YYYY` form, the season
    spelled as ORC_TERMS spells it (a season ORC_TERMS does not know, like IAP, as typed)."""
    value = (term or "").strip()
    match = TERM_RE.match(value)
    if not match:
        check_term(value, field)
    season = match.group(1)
    spelled = next((s for s in seasons if s.lower() == season.lower()), season)
    return f"{spelled}_{match.group(2)}"


def term_order(term: str, seasons: Sequence[str]) -> tuple[int, int] | None:
    """(year, season index) for comparing terms; None when the season is not configured."""
    match = TERM_RE.match(term or "")
    lowered = [s.lower() for s in seasons]
    if not match or match.group(1).lower() not in lowered:
        return None
    return int(match.group(2)), lowered.index(match.group(1).lower())


def next_term(term: str, seasons: Sequence[str]) -> str | None:
    """The term after `term` in the configured season order, or None if its season is unknown."""
    match = TERM_RE.match(term or "")
    if not match:
        return None
    season, year = match.group(1), int(match.group(2))
    lowered = [s.lower() for s in seasons]
    if season.lower() not in lowered:
        return None
    index = lowered.index(season.lower())
    if index + 1 < len(seasons):
        return f"{seasons[index + 1]}_{year}"
    return f"{seasons[0]}_{year + 1}"
