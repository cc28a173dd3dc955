"""The actions staff ask for: the original library's seven (`actions.github`, same names,
parameters and results as 0.2.1) and the design notes' flows (`actions.flows`).

An action validates its input, builds its GitHub steps and runs them through one
preflight: every step looks first, and if any finds a problem nothing is written. In a
plan context (`plan_context`) the looks are the whole story: the dry run."""

from orcoursetrion.actions.context import (
    Context,
    default_context,
    dry_context,
    github_client,
    live_context,
    plan_context,
    shared_pacer,
)
from orcoursetrion.actions.flows import (
    KINDS,
    LIVE_BRANCH,
    STUDIO,
    XML,
    check_new_course,
    detect_kind,
    move_to_production,
    new_course,
    rerun_course,
    rerun_xml_course,
    set_team,
    unknown_logins,
)
from orcoursetrion.actions.github import (
    GITIGNORE_CONTENTS,
    GITIGNORE_MESSAGE,
    GITIGNORE_PATH,
    create_export_repo,
    create_xml_repo,
    put_team,
    release_studio,
    release_xml,
    rerun_studio,
    rerun_xml,
)

__all__ = [
    "GITIGNORE_CONTENTS",
    "GITIGNORE_MESSAGE",
    "GITIGNORE_PATH",
    "KINDS",
    "LIVE_BRANCH",
    "STUDIO",
    "XML",
    "Context",
    "check_new_course",
    "create_export_repo",
    "create_xml_repo",
    "default_context",
    "detect_kind",
    "dry_context",
    "github_client",
    "live_context",
    "move_to_production",
    "new_course",
    "plan_context",
    "put_team",
    "release_studio",
    "release_xml",
    "rerun_course",
    "rerun_studio",
    "rerun_xml",
    "rerun_xml_course",
    "set_team",
    "shared_pacer",
    "unknown_logins",
]
