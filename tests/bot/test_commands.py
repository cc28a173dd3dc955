"""Words that are not a request: help, usage and unknown verbs answer privately and never
reach GitHub."""

from __future__ import annotations

import pytest

from commands import REGISTRY
from tests.bot.conftest import ALICE, CHANNEL, bot_messages, text_of


def test_help_lists_every_verb_with_an_example(github, slack, bot):
    ack = slack.command("/orc", "help", user=ALICE, channel=CHANNEL)
    assert ack.status == 200 and ack.ephemeral is not None
    shown = text_of(ack.ephemeral)
    for verb in REGISTRY.values():
        assert f"/orc {verb.name}" in shown or verb.example in shown


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("frobnicate 8.01r", "I don't know `frobnicate`"),
        ("rerun 8.01r", "Usage: `/orc rerun"),
        ("rerun 8.01r fall2030", "Usage: `/orc rerun"),
        ("release", "Usage: `/orc release"),
        ("team 8.01r Fall_2030", "Usage: `/orc team"),
        ("team 8.01r Fall_2030 not_a+login", "Usage: `/orc team"),
        ("rollover Fall_2030 Spring_2031", "Only approvers"),
    ],
)
def test_bad_words_get_an_ephemeral_answer_and_no_github_call(github, slack, bot, text, expect):
    ack = slack.command("/orc", text, user=ALICE, channel=CHANNEL)

    assert ack.status == 200 and ack.elapsed < 3.0
    assert ack.ephemeral is not None and expect in text_of(ack.ephemeral)
    assert bot_messages(slack, CHANNEL) == []
    assert bot.store.list_requests() == []
    assert github.count() == 0


def test_status_of_a_request(github, slack, bot):
    slack.command("/orc", "rerun 8.01r Fall_2030", user=ALICE, channel=CHANNEL)
    slack.wait_for(lambda: bot.store.list_requests())
    rid = bot.store.list_requests()[0].id

    ack = slack.command("/orc", f"status {rid}", user=ALICE, channel=CHANNEL)

    assert f"#{rid}" in text_of(ack.ephemeral)
    mine = slack.command("/orc", "list mine", user=ALICE, channel=CHANNEL)
    assert f"#{rid}" in text_of(mine.ephemeral)
