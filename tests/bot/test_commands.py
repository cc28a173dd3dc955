"""Words that are not a request: help, usage and unknown verbs answer privately and never
reach GitHub; what someone typed is shown back as text, never as live markup."""

from __future__ import annotations

import pytest

from commands import REGISTRY
from tests.bot.conftest import ALICE, CHANNEL, ask, bot_messages, text_of


def test_help_lists_every_verb_with_an_example(github, slack, bot):
    ack, answer = ask(slack, "help")
    assert ack.body == ""  # acknowledged at once; the answer follows
    shown = text_of(answer)
    for verb in REGISTRY.values():
        assert f"/orc {verb.name}" in shown and verb.example in shown


def test_help_for_one_verb_shows_its_usage_and_examples(github, slack, bot):
    _, answer = ask(slack, "help rerun")
    shown = text_of(answer)
    assert (
        "/orc rerun COURSE TERM [NEW_TERM] [xml|studio]" in shown and "/orc rerun 8.01r Fall_2030 Summer_2031" in shown
    )
    assert "/orc release" not in shown
    _, unknown = ask(slack, "help relase")
    assert "I don't know the verb `relase`. Did you mean `/orc release`?" in text_of(unknown)


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("frobnicate 8.01r", "I don't know the verb `frobnicate`."),
        ("relase 8.01r Fall_2030", "Did you mean `/orc release`?"),
        ("rerun 8.01r", "Usage: `/orc rerun"),
        ("rerun 8.01r fall2030", "Term must look like Season_Year"),
        ("rerun 8.01r Fall_2030 Spring_2031 pdf", "I don't understand `pdf` here"),
        ("release", "Usage: `/orc release"),
        ("team 8.01r Fall_2030", "Usage: `/orc team"),
        ("team 8.01r Fall_2030 not_a+login", "`not_a+login` is not a valid GitHub login"),
        ("rollover Fall_2030 Spring_2031", "Only approvers"),
        ("status <!channel>", "`&lt;!channel&gt;` is not a request number"),
        ("status <@U0BOSS>", "`&lt;@U0BOSS&gt;` is not a request number"),
        ("status <http://evil.example|click>", "`&lt;http://evil.example|click&gt;` is not a request number"),
        ("status *bold*`escape`", "`*bold*ˋescapeˋ` is not a request number"),
        ("status ²", "`²` is not a request number"),
        ("status " + "9" * 30, "is not a request number"),
        ("list everything", "`everything` is not a list"),
        ("x" * 5000, "an /orc command takes at most 4000"),
    ],
)
def test_bad_words_get_a_private_answer_and_no_github_call(github, slack, bot, text, expect):
    _, answer = ask(slack, text)
    shown = text_of(answer)
    assert expect in shown
    assert "<!channel>" not in shown and "<@U0BOSS>" not in shown and "<http://evil" not in shown
    assert bot_messages(slack, CHANNEL) == []
    assert bot.store.list_requests() == []
    assert github.count() == 0


def test_state_errors_carry_no_usage_block(github, slack, bot):
    _, answer = ask(slack, "retry 42")
    assert "There is no request #42." in text_of(answer) and "Usage" not in text_of(answer)


def test_status_of_a_request(github, slack, bot):
    slack.command("/orc", "rerun 8.01r Fall_2030", user=ALICE, channel=CHANNEL)
    slack.wait_for(lambda: bot.store.list_requests())
    rid = bot.store.list_requests()[0].id

    _, answer = ask(slack, f"status {rid}")
    assert f"#{rid}" in text_of(answer) and "Plan" in text_of(answer)
    _, mine = ask(slack, "list mine")
    assert f"#{rid}" in text_of(mine)
