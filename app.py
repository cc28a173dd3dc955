"""Entry point: `python app.py` serves Slack (HTTP, or Socket Mode with SLACK_APP_TOKEN);
with no Slack tokens, or with --shell, it starts the local shell instead."""

from __future__ import annotations

import argparse
import sys

from orcoursetrion.cli import STORE_EXIT, fail_line
from orcoursetrion.config import load_settings
from orcoursetrion.errors import ConfigError, StoreUnavailable, user_message
from orcoursetrion.redact import configure_logging


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="orcoursetrion: MITx course provisioning from Slack")
    parser.add_argument("--shell", action="store_true", help="local Slack-like prompt instead of the Slack app")
    parser.add_argument("--port", type=int, help="HTTP port (default: PORT, else 3000)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"orcoursetrion: configuration: {problem}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    try:
        if args.shell or not settings.slack_enabled:
            from commands.shell import run

            if not args.shell:
                print("No Slack tokens configured (SLACK_BOT_TOKEN/SLACK_SIGNING_SECRET): starting the local shell.")
            return run(settings)
        from bot.runtime import build

        runtime = build(settings)
    except StoreUnavailable as exc:
        fail_line("store", user_message(exc))
        return STORE_EXIT
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"orcoursetrion: configuration: {problem}", file=sys.stderr)
        return 2
    runtime.start(port=args.port)
    runtime.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
