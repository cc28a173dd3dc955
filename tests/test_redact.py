"""Redaction masks every secret and stays linear in its input, so a hostile megabyte in a
log line costs milliseconds, not seconds."""

from __future__ import annotations

import time

import pytest

from orcoursetrion.redact import redact, redact_url, register_secret


@pytest.mark.parametrize(
    "text",
    [
        "a" * (1 << 20),
        "x://" + "a" * (1 << 20),
        "authorization: basic " + "A" * (1 << 20),
        ":/@" * 350_000,
        '"token": "' * 100_000,
    ],
)
def test_a_megabyte_single_token_is_redacted_in_milliseconds(text):
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 0.5  # quadratic backtracking took seconds here


def test_urls_headers_and_registered_secrets_are_masked():
    register_secret("ghp_linearSecret42")
    text = "https://user:pw@host/x Authorization: Bearer abc.def token ghp_linearSecret42 end"
    assert redact(text) == "https://***@host/x Authorization: Bearer *** token *** end"
    assert redact_url("https://stage:s3cret@gitreload.example.edu/") == "https://***@gitreload.example.edu/"
    assert redact_url("https://gitreload.example.edu/") == "https://gitreload.example.edu/"


def test_a_token_field_of_a_json_body_is_masked_whatever_its_format():
    """GitHub Enterprise may issue installation tokens in an older format than `ghs_…`."""
    body = '{"token": "v1.3f9c0a1b2c3d4e5f60718293a4b5c6d7e8f90123", "expires_at": "2030-01-01T00:00:00Z"}'
    assert redact(body) == '{"token": "***", "expires_at": "2030-01-01T00:00:00Z"}'


def test_a_database_urls_password_is_a_secret_wherever_it_is_written(monkeypatch):
    """DATABASE_URL's password, in the userinfo or the query, is masked in any text once the
    settings are read, and `--help`'s store line shows neither."""
    from orcoursetrion.cli import _store_line
    from orcoursetrion.config import load_settings

    url = "postgresql+psycopg://orc:pg%2Fpass-1@db.example.edu/orc?sslpassword=key-pass-2&sslmode=require"
    monkeypatch.setenv("DATABASE_URL", url)
    load_settings()
    assert redact("connect failed for pg/pass-1 and key-pass-2") == "connect failed for *** and ***"
    line = _store_line()
    assert "pass-1" not in line and "key-pass-2" not in line and "sslmode=require" in line
