"""Property tests (hypothesis) over every parser that takes untrusted input: slash text,
modal values, button payloads, signature headers and webhook bodies. Whatever arrives,
no exception escapes, the answer is one of the expected kinds, and nothing invalid
reaches GitHub (the GitHub configured here refuses every connection)."""

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
