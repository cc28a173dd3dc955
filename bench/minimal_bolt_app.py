"""The baseline for bench/ack_latency.py: the smallest Bolt app that answers `/orc` (it only
acks), served the way `python app.py` serves Slack (Bolt's WSGI adapter under waitress,
the same server options). Run as its own process: `python bench/minimal_bolt_app.py`
with SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL and PORT set."""

from __future__ import annotations

import os

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress import serve


def build() -> App:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])

    @app.command("/orc")
    def orc(ack):
        ack()

    return app


def main() -> None:
    handler = SlackRequestHandler(build())

    def application(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "ok"}']
        return handler(environ, start_response)

    # bot/server.py serve(): the same server and options
    serve(
        application,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        threads=32,
        ident="orcoursetrion",
        channel_timeout=60,
        clear_untrusted_proxy_headers=True,
    )


if __name__ == "__main__":
    main()
