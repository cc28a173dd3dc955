"""0.2.1's command-line module: `execute()` (the console script's entry point, reading
`sys.argv`) and one `run_<action>(args)` per original subcommand.

All of it is the product's CLI (`orcoursetrion.cli`): the same parser, the recorded and
resumable requests, the one-line failures. `run_<action>` takes the namespace 0.2.1's
parser produced (`course`, `term`, `new_term`, `team`, `member`, `description`, `org`,
`read_only`), runs the action with the configuration (the environment, and any
`orcoursetrion.config.ORC_*` attribute a script assigned) and prints its result; it
raises the action's errors as 0.2.1's did.
"""

from __future__ import annotations

import argparse
import sys

from orcoursetrion import cli

__all__ = [
    "execute",
    "run_create_export_repo",
    "run_create_xml_repo",
    "run_put_team",
    "run_release_studio",
    "run_release_xml",
    "run_rerun_studio",
    "run_rerun_xml",
]


def execute() -> int:
    """Run `orcoursetrion SUBCOMMAND ...` from `sys.argv`; returns the exit status."""
    return cli.main(sys.argv[1:])


def _run(action: str, args: argparse.Namespace) -> int:
    from orcoursetrion.config import library_settings

    names = cli.ORIGINAL[action][1]
    namespace = argparse.Namespace(**vars(args))
    namespace.action, namespace.arg_names = action, names
    namespace.dry_run = getattr(args, "dry_run", False)
    return cli.run_action(namespace, library_settings())


def run_create_export_repo(args: argparse.Namespace) -> int:
    """Run create_export_repo with args.course, args.term, args.description."""
    return _run("create_export_repo", args)


def run_rerun_studio(args: argparse.Namespace) -> int:
    """Run rerun_studio with args.course, args.term, args.new_term."""
    return _run("rerun_studio", args)


def run_release_studio(args: argparse.Namespace) -> int:
    """Run release_studio with args.course, args.term."""
    return _run("release_studio", args)


def run_create_xml_repo(args: argparse.Namespace) -> int:
    """Run create_xml_repo with args.course, args.term, args.team, args.member, args.description."""
    return _run("create_xml_repo", args)


def run_rerun_xml(args: argparse.Namespace) -> int:
    """Run rerun_xml with args.course, args.term."""
    return _run("rerun_xml", args)


def run_release_xml(args: argparse.Namespace) -> int:
    """Run release_xml with args.course, args.term."""
    return _run("release_xml", args)


def run_put_team(args: argparse.Namespace) -> int:
    """Run put_team with args.org, args.team, args.read_only, args.member."""
    return _run("put_team", args)


def __getattr__(name: str):
    """`orcoursetrion.cmd.actions`, as in 0.2.1, imported only when asked for (keeps --help fast)."""
    if name == "actions":
        from orcoursetrion import actions

        return actions
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
