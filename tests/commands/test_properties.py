"""Property tests (hypothesis) over every parser that takes untrusted input: slash text,
modal values, button payloads, signature headers, webhook bodies and the command line.
Whatever arrives, no exception escapes, the answer is one of the expected kinds, and
nothing invalid reaches GitHub (the GitHub configured here refuses every connection; the
command line runs against the fake GitHub, which counts what it was asked)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.middleware import form_values
from bot.server import slack_refusal, zendesk_signature_ok
from bot.zendesk_webhook import handle as zendesk_handle
from commands import REGISTRY, Draft, FieldErrors, Invocation, OpenModal, Reply, Services, dispatch
from commands.rollover import parse_courses
from orcoursetrion.cli import ORIGINAL
from orcoursetrion.errors import ValidationError
from orcoursetrion.naming import check_course, check_members, check_term, normalize_term, shown
from orcoursetrion.store import open_store
from orcoursetrion.workflow import Workflow
from tests.conftest import settings_for

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
words = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
slash = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.one_of(words, st.sampled_from([*REGISTRY, "xml", "studio", "Fall_2030", "8.01r", "#12", "<!channel>"])),
        max_size=8,
    ).map(" ".join),
)


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    path = tmp_path_factory.mktemp("props") / "orc.db"
    conf = settings_for(None, f"sqlite:///{path}", ORC_APPROVERS="UBOSS")  # GitHub at 127.0.0.1:9: refused
    store = open_store(conf.database_url)
    wf = Workflow(conf, store)
    yield Services(conf, store, wf)
    wf.shutdown()
    store.close()


@FAST
@given(text=slash, user=st.sampled_from(["UALICE", "UBOSS"]))
def test_any_slash_text_gets_an_answer_and_drafts_hold_valid_values(services, text, user):
    outcome = dispatch(text, Invocation(user=user, args=[], channel="C1"), services)
    assert isinstance(outcome, Reply | Draft | OpenModal)
    if isinstance(outcome, Reply):
        assert outcome.text and "<!channel>" not in outcome.text and "<@" not in outcome.text.replace("<@UBOSS>", "")
    if isinstance(outcome, Draft):
        params = outcome.params
        for key in ("course",):
            if key in params:
                assert check_course(params[key]) == params[key]
        for key in ("term", "new_term"):
            if params.get(key):
                assert check_term(params[key]) == params[key]
        if params.get("members") is not None:
            assert check_members(params["members"]) == params["members"]


values = st.one_of(
    st.none(),
    st.text(max_size=50),
    st.integers(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)


@FAST
@given(
    state=st.dictionaries(
        st.sampled_from(["kind", "course", "term", "title", "members", "desired", "new_term", "courses", "x"]),
        st.fixed_dictionaries(
            {
                "a": st.fixed_dictionaries(
                    {
                        "type": st.sampled_from(["plain_text_input", "radio_buttons", "datepicker", "weird"]),
                        "value": values,
                        "selected_option": values,
                        "selected_date": values,
                    }
                )
            }
        ),
        max_size=6,
    ),
    verb=st.sampled_from(["new", "rerun", "rollover"]),
)
def test_any_modal_state_is_values_or_named_problems_and_submit_answers_cleanly(services, state, verb):
    parsed, problems = form_values({"values": state})
    assert all(v is None or isinstance(v, str) for v in parsed.values())
    assert set(parsed) | set(problems) <= set(state)
    meta = {"verb": verb, "channel": "C1", "course": "8.01r", "term": "Fall_2030", "new_term": "Spring_2031"}
    try:
        draft = REGISTRY[verb].submit(parsed, meta, Invocation(user="UALICE", args=[]), services)
    except FieldErrors as exc:
        assert exc.errors and all(isinstance(m, str) for m in exc.errors.values())
    else:
        assert isinstance(draft, Draft)


@FAST
@given(text=st.text(max_size=300))
def test_course_lists_and_names_either_parse_or_say_why(text):
    try:
        courses = parse_courses(text)
    except ValidationError as exc:
        assert str(exc)
    else:
        assert all(check_course(c) == c for c in courses)
    try:
        normalize_term(text, ("Spring", "Summer", "Fall"))
    except ValidationError as exc:
        assert "Season_Year" in str(exc)


@FAST
@given(value=st.text(max_size=300))
def test_shown_text_is_always_an_inert_code_span(value):
    out = shown(value)
    assert out.startswith("`") and out.endswith("`") and out.count("`") == 2
    assert "<" not in out and ">" not in out and "\n" not in out


@FAST
@given(timestamp=st.text(max_size=40), signature=st.text(max_size=80), body=st.binary(max_size=200))
def test_any_signature_header_is_a_refusal_or_none_never_an_exception(timestamp, signature, body):
    assert slack_refusal("secret", timestamp, signature, body, now=1_800_000_000) is not None
    assert zendesk_signature_ok("secret", timestamp, body, signature) is False


webhook_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@FAST
@given(
    body=st.one_of(
        st.binary(max_size=100),
        webhook_values.map(lambda v: json.dumps(v).encode()),
        st.fixed_dictionaries(
            {
                "ticket": st.fixed_dictionaries(
                    {
                        "id": webhook_values,
                        "external_id": webhook_values,
                        "tags": webhook_values,
                        "latest_comment": webhook_values,
                    }
                )
            }
        ).map(lambda v: json.dumps(v).encode()),
    )
)
@example(body=b'{"ticket":{"id":1e20,"tags":"orc_approve"}}')
@example(body=b'{"ticket":{"id":"123456789012345678901234567890","tags":"orc_reject"}}')
def test_any_signed_webhook_body_is_answered_without_an_exception(services, body):
    status, answer = zendesk_handle(services, body)
    assert status.split()[0] in ("200", "202", "400") and isinstance(answer, dict)


@FAST
@given(
    course=st.one_of(st.text(max_size=45), st.sampled_from(["8.01r", ".x", "a/b", "x" * 41])),
    term=st.one_of(st.text(max_size=15), st.sampled_from(["Fall_2030", "fall2030", "Fall_20301"])),
    members=st.one_of(st.none(), st.lists(st.text(max_size=42), max_size=3)),
)
def test_invalid_input_never_reaches_github(github, settings, course, term, members):
    """An action given input that fails validation makes no request at all."""
    from orcoursetrion import actions
    from orcoursetrion.actions import live_context

    before = len(github.requests)
    try:
        check_course(course), check_term(term), check_members(members)
    except ValidationError:
        with pytest.raises(ValidationError):
            actions.create_xml_repo(course, term, members=members, ctx=live_context(settings))
        assert len(github.requests) == before


# -- the command line ---------------------------------------------------------------------------

CLI_SUBCOMMANDS = [*ORIGINAL, "rollover", "db", "schedule", "audit"]  # `shell` is a prompt: tests/test_shell.py
CLI_FLAGS = [
    *("-c", "--course", "-t", "--term", "-n", "--new-term", "-d", "--description", "-g", "--team"),
    *("-m", "--member", "-o", "--org", "-r", "--read_only", "--dry-run", "--courses", "-k", "--kind"),
    *("--at", "--tz", "--request", "--since", "--format", "--help", "--version", "--", "-"),
]
CLI_VALUES = [
    *("8.01r", "Fall_2030", "Spring_2031", "fall2030", "alice", "not_a_login!", "mitx", "Physics Staff"),
    *("upgrade", "current", "release", "rerun", "list", "cancel", "1", "#1", "0", "-1", "9" * 25),
    *("2030-09-01", "2030-09-01 09:00", "2030-02-30", "yesterday", "json", "csv", "xml", "studio"),
    *("America/New_York", "Mars/Olympus", "/nonexistent/courses.txt", "a\x00b", "", " "),
]
cli_token = st.one_of(st.sampled_from(CLI_FLAGS + CLI_VALUES), st.text(max_size=20))
cli_value = st.one_of(st.sampled_from(CLI_VALUES), st.text(max_size=20))
FLAG_OF = {
    **{"course": "-c", "term": "-t", "new_term": "-n", "description": "-d", "team": "-g", "org": "-o"},
    **{"courses": "--courses", "at": "--at", "tz": "--tz", "kind": "-k"},
    **{"request": "--request", "since": "--since", "format": "--format"},
}
SHAPES = {
    **{name: args for name, (_, args, _) in ORIGINAL.items()},
    "rollover": ["term", "new_term", "courses"],
    "schedule": ["schedule_verb", "course", "term", "new_term", "members", "at", "tz", "kind"],
    "audit": ["request", "since", "format"],
    "db": ["db_verb"],
}
PLAUSIBLE = {
    "course": ["8.01r", "6.0001"],
    "term": ["Fall_2030"],
    "new_term": ["Spring_2031"],
    "description": ["Physics I"],
    "team": ["Physics Staff"],
    "org": ["mitx"],
    "at": ["2031-01-10 09:00", "2031-03-08 02:30"],
    "tz": ["America/New_York", "UTC"],
    "kind": ["xml", "studio"],
    "request": ["1", "2"],
    "since": ["2030-01-01", "2020-01-01 10:00"],
    "format": ["json", "csv", "text"],
}


@st.composite
def shaped_argv(draw) -> list[str]:
    """A subcommand with its own flags (each maybe left out, its value plausible or not),
    sometimes a stray token: most of these get past argparse to the product's checks."""
    name = draw(st.sampled_from(sorted(SHAPES)))
    argv = [name]
    for arg in SHAPES[name]:
        if not draw(st.integers(0, 9)):  # now and then a required one is missing
            continue
        if arg in ("schedule_verb", "db_verb"):
            argv.append(draw(st.sampled_from(["release", "rerun", "list", "cancel", "upgrade", "current"])))
        elif arg == "members":
            argv += ["-m", *draw(st.lists(cli_value, max_size=3))]
        elif arg == "read_only":
            argv += ["-r"] if draw(st.booleans()) else []
        else:
            good = st.sampled_from(PLAUSIBLE.get(arg, CLI_VALUES))
            argv += [FLAG_OF[arg], draw(st.one_of(good, good, good, good, cli_value))]
    if draw(st.booleans()):
        argv.append("--dry-run")
    if not draw(st.integers(0, 4)):
        argv.insert(draw(st.integers(1, len(argv))), draw(cli_token))
    return argv


cli_argv = st.one_of(
    shaped_argv(),
    shaped_argv(),
    shaped_argv(),
    st.tuples(st.sampled_from(CLI_SUBCOMMANDS), st.lists(cli_token, max_size=8)).map(lambda t: [t[0], *t[1]]),
    st.lists(cli_token, max_size=4),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=cli_argv)
@example(argv=["rollover", "-t", "Fall_2030", "-n", "Spring_2031", "--courses", "a\x00b"])
@example(argv=["audit", "--request", "9" * 25])
@example(argv=["schedule", "release", "-c", "8.01r", "-t", "Fall_2030", "--at", "2030-02-30 09:00"])
def test_any_command_line_is_a_result_or_a_clear_usage_error(cli, github, capsys, argv):
    """Whatever the arguments, `orcoursetrion` ends with 0, 1 or 2 and no traceback; 2
    (refused input) says what is wrong in one line starting with the program's name, and
    GitHub was not called (only whether logins exist is GitHub's to say: read, never written)."""
    before = len(github.requests)
    try:
        code, out, err = cli(*argv)
    except SystemExit as done:  # argparse: --help, --version, or a usage error
        code = done.code
        out, err = capsys.readouterr()
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in out + err
    if code == 2:
        last = err.rstrip("\n").split("\n")[-1]
        assert last.startswith("orcoursetrion") and ("error:" in last or "configuration:" in last), (argv, err)
        assert last.isprintable(), (argv, err)  # what was typed is shown escaped, on one line
        asked = github.requests[before:]
        assert not [r for r in asked if r.method != "GET"], (argv, err)  # refused input never writes
        assert not asked or "GitHub does not know these logins" in last, (argv, err)  # only logins need asking
    if code == 1:
        assert err.strip() or "cannot run" in out, argv  # a failure, or a dry run's plan, says why
