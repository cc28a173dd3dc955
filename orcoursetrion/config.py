"""Typed settings read once from the environment (and an optional `.env` file).

The original tool's keys keep their names and defaults; the bot's keys are new.
Problems are reported one line per key and never include the key's value.

0.2.1's module interface lives here too: `CONFIG_KEYS`, one `ORC_*` attribute per key
(read from the environment at import, again by `configure()`) and the rule that a
library call without a context honours attributes a script assigned
(`library_settings`). The bot and the CLI read the environment only (`load_settings`).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from orcoursetrion.errors import ConfigError
from orcoursetrion.redact import register_secret

SECRET_KEYS = (
    "ORC_GH_OAUTH2_TOKEN",
    "ORC_GH_APP_PRIVATE_KEY",
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "ZENDESK_API_TOKEN",
    "ZENDESK_WEBHOOK_SECRET",
    "EDX_API_TOKEN",
)
SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")  # a Slack user id
_SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_SEASON = re.compile(r"^[A-Za-z]+$")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


APP_NAME = "orcoursetrion"

# 0.2.1's keys and defaults (`orcoursetrion.config.CONFIG_KEYS`).
CONFIG_KEYS: dict[str, str | None] = {
    "ORC_GH_OAUTH2_TOKEN": None,
    "ORC_GH_API_URL": "https://github.mit.edu/api/v3/",
    "ORC_GH_NAME": "Orcoursetrion",
    "ORC_GH_EMAIL": "orcoursetrion@example.com",
    "ORC_COURSE_PREFIX": "content-mit",
    "ORC_STUDIO_ORG": "MITx-Studio2LMS",
    "ORC_STUDIO_DEPLOY_TEAM": "mitx-studio-export",
    "ORC_XML_ORG": "mitx",
    "ORC_XML_DEPLOY_TEAM": "mitx-content-deployment",
    "ORC_STAGING_GITRELOAD": None,
    "ORC_PRODUCTION_GITRELOAD": None,
}

ORC_GH_OAUTH2_TOKEN: str | None
ORC_GH_API_URL: str
ORC_GH_NAME: str
ORC_GH_EMAIL: str
ORC_COURSE_PREFIX: str
ORC_STUDIO_ORG: str
ORC_STUDIO_DEPLOY_TEAM: str
ORC_XML_ORG: str
ORC_XML_DEPLOY_TEAM: str
ORC_STAGING_GITRELOAD: str | None
ORC_PRODUCTION_GITRELOAD: str | None

_configured: dict[str, str | None] = {}


def default_database_path() -> Path:
    """The SQLite file shared by the CLI, the shell and the bot when DATABASE_URL is unset:
    in the user data directory (`~/.local/share/orcoursetrion/` on Linux), whatever the
    working directory, so a command resumes its request from anywhere."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / f"{APP_NAME}.db"


def default_database_url() -> str:
    return f"sqlite:///{default_database_path()}"


@dataclass(frozen=True)
class Settings:
    """Everything the product reads from its environment."""

    gh_token: str | None = None
    gh_app_id: int | None = None
    gh_app_private_key: str | None = None  # PEM text (from the key or its file); a secret
    gh_app_installation_id: int | None = None
    gh_api_url: str = "https://github.mit.edu/api/v3/"
    gh_name: str = "Orcoursetrion"
    gh_email: str = "orcoursetrion@example.com"
    course_prefix: str = "content-mit"
    studio_org: str = "MITx-Studio2LMS"
    studio_deploy_team: str = "mitx-studio-export"
    xml_org: str = "mitx"
    xml_deploy_team: str = "mitx-content-deployment"
    staging_gitreload: str | None = None
    production_gitreload: str | None = None
    gh_writes_per_minute: int = 80
    gh_writes_per_hour: int = 500
    gh_write_burst: int = 1
    gh_max_concurrent: int = 10
    gh_timeout: int = 30
    gh_max_retries: int = 6
    rollover_concurrency: int = 4
    max_copy_mb: int = 2048

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = 3000

    database_url: str = field(default_factory=default_database_url)
    approvers: tuple[str, ...] = ()
    approval_channel: str | None = None
    auto_approve: bool = False
    terms: tuple[str, ...] = ("Spring", "Summer", "Fall")
    timezone: str = "UTC"
    workers: int = 4
    lease_seconds: int = 60
    shutdown_grace: int = 10
    schedule_max_late_hours: int = 24
    remind_at: str = "09:00"
    remind_after_hours: int = 24

    zendesk_subdomain: str | None = None
    zendesk_email: str | None = None
    zendesk_api_token: str | None = None
    zendesk_url: str | None = None
    zendesk_webhook_secret: str | None = None

    edx_api_url: str | None = None
    edx_api_token: str | None = None
    log_level: str = "INFO"
    log_format: str = "text"  # text | json (one JSON object per line)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token or self.slack_signing_secret or self.slack_app_token)

    @property
    def socket_mode(self) -> bool:
        return bool(self.slack_app_token)

    @property
    def gh_app(self) -> bool:
        """GitHub is reached as a GitHub App (installation tokens), not with a token."""
        return bool(self.gh_app_id and self.gh_app_private_key)

    @property
    def gh_configured(self) -> bool:
        """Credentials for GitHub are set: a personal access token or a GitHub App."""
        return bool(self.gh_token) or self.gh_app

    @property
    def dry_run_only(self) -> bool:
        """Without GitHub credentials nothing can change: plans only."""
        return not self.gh_configured

    @property
    def committer(self) -> dict[str, str]:
        return {"name": self.gh_name, "email": self.gh_email}

    def is_approver(self, user_id: str | None) -> bool:
        return bool(user_id) and user_id in self.approvers

    def __repr__(self) -> str:  # never print secrets, even by accident
        return f"Settings(gh_api_url={self.gh_api_url!r}, database_url=<set>, slack={self.slack_enabled})"

    __str__ = __repr__


# env key -> (field name, kind). Kinds: str, url, int, bool, list:approvers, ...
_KEYS: dict[str, tuple[str, str]] = {
    "ORC_GH_OAUTH2_TOKEN": ("gh_token", "str"),
    "ORC_GH_APP_ID": ("gh_app_id", "appid"),
    "ORC_GH_APP_PRIVATE_KEY": ("gh_app_private_key", "pem"),
    "ORC_GH_APP_PRIVATE_KEY_FILE": ("gh_app_private_key_file", "pemfile"),
    "ORC_GH_APP_INSTALLATION_ID": ("gh_app_installation_id", "appid"),
    "ORC_GH_API_URL": ("gh_api_url", "url"),
    "ORC_GH_NAME": ("gh_name", "str"),
    "ORC_GH_EMAIL": ("gh_email", "email"),
    "ORC_COURSE_PREFIX": ("course_prefix", "name"),
    "ORC_STUDIO_ORG": ("studio_org", "name"),
    "ORC_STUDIO_DEPLOY_TEAM": ("studio_deploy_team", "str"),
    "ORC_XML_ORG": ("xml_org", "name"),
    "ORC_XML_DEPLOY_TEAM": ("xml_deploy_team", "str"),
    "ORC_STAGING_GITRELOAD": ("staging_gitreload", "url"),
    "ORC_PRODUCTION_GITRELOAD": ("production_gitreload", "url"),
    "ORC_GH_WRITES_PER_MINUTE": ("gh_writes_per_minute", "posint"),
    "ORC_GH_WRITES_PER_HOUR": ("gh_writes_per_hour", "posint"),
    "ORC_GH_WRITE_BURST": ("gh_write_burst", "posint"),
    "ORC_GH_MAX_CONCURRENT": ("gh_max_concurrent", "concurrency"),
    "ORC_GH_TIMEOUT": ("gh_timeout", "posint"),
    "ORC_GH_MAX_RETRIES": ("gh_max_retries", "int"),
    "ORC_ROLLOVER_CONCURRENCY": ("rollover_concurrency", "concurrency"),
    "ORC_MAX_COPY_MB": ("max_copy_mb", "posint"),
    "SLACK_BOT_TOKEN": ("slack_bot_token", "str"),
    "SLACK_SIGNING_SECRET": ("slack_signing_secret", "str"),
    "SLACK_APP_TOKEN": ("slack_app_token", "str"),
    "SLACK_API_URL": ("slack_api_url", "url"),
    "PORT": ("port", "port"),
    "DATABASE_URL": ("database_url", "dburl"),
    "ORC_APPROVERS": ("approvers", "approvers"),
    "ORC_APPROVAL_CHANNEL": ("approval_channel", "channel"),
    "ORC_AUTO_APPROVE": ("auto_approve", "bool"),
    "ORC_TERMS": ("terms", "terms"),
    "ORC_TIMEZONE": ("timezone", "tz"),
    "ORC_WORKERS": ("workers", "posint"),
    "ORC_LEASE_SECONDS": ("lease_seconds", "posint"),
    "ORC_SHUTDOWN_GRACE": ("shutdown_grace", "posint"),
    "ORC_SCHEDULE_MAX_LATE_HOURS": ("schedule_max_late_hours", "posint"),
    "ORC_REMIND_AT": ("remind_at", "clock"),
    "ORC_REMIND_AFTER_HOURS": ("remind_after_hours", "posint"),
    "ZENDESK_SUBDOMAIN": ("zendesk_subdomain", "name"),
    "ZENDESK_EMAIL": ("zendesk_email", "email"),
    "ZENDESK_API_TOKEN": ("zendesk_api_token", "str"),
    "ZENDESK_URL": ("zendesk_url", "url"),
    "ZENDESK_WEBHOOK_SECRET": ("zendesk_webhook_secret", "str"),
    "EDX_API_URL": ("edx_api_url", "url"),
    "EDX_API_TOKEN": ("edx_api_token", "str"),
    "LOG_LEVEL": ("log_level", "level"),
    "LOG_FORMAT": ("log_format", "logformat"),
}


def _parse(kind: str, key: str, raw: str):
    """Convert one raw value; raise ValueError with a message that omits the value."""
    value = raw.strip()
    if kind == "str":
        return value
    if kind == "name":
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", value):
            raise ValueError("must be a name of letters, digits, '.', '_' or '-'")
        return value
    if kind == "email":
        if not re.fullmatch(r"[^@\s]+@[^@\s]+", value):
            raise ValueError("must be an e-mail address")
        return value
    if kind == "url":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        return value
    if kind in ("int", "posint", "port", "concurrency"):
        try:
            number = int(value)
        except ValueError:
            raise ValueError("must be a whole number") from None
        if kind == "posint" and number < 1:
            raise ValueError("must be 1 or more")
        if kind == "int" and number < 0:
            raise ValueError("must be 0 or more")
        if kind == "port" and not 1 <= number <= 65535:
            raise ValueError("must be a port number (1-65535)")
        if kind == "concurrency" and not 1 <= number <= 99:
            raise ValueError("must be between 1 and 99 (GitHub allows fewer than 100 concurrent requests)")
        return number
    if kind == "bool":
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError("must be true or false")
    if kind == "approvers":
        ids = tuple(v.strip() for v in value.split(",") if v.strip())
        if any(not SLACK_USER.match(v) for v in ids):
            raise ValueError("must be comma-separated Slack user ids (like U012AB3CD)")
        return ids
    if kind == "channel":
        if not _SLACK_CHANNEL.match(value):
            raise ValueError("must be a Slack channel id (like C012AB3CD)")
        return value
    if kind == "terms":
        seasons = tuple(v.strip() for v in value.split(",") if v.strip())
        if not seasons or any(not _SEASON.match(s) for s in seasons):
            raise ValueError("must be comma-separated season names (like Spring,Summer,Fall)")
        if len({s.lower() for s in seasons}) != len(seasons):
            raise ValueError("must not repeat a season")
        return seasons
    if kind == "tz":
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("must be an IANA time zone name (like America/New_York)") from None
        return value
    if kind == "clock":
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise ValueError("must be a time of day as HH:MM (24-hour clock, like 09:00)")
        return f"{int(match[1]):02d}:{match[2]}"
    if kind == "level":
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value.upper()
    if kind == "logformat":
        if value.lower() not in ("text", "json"):
            raise ValueError("must be text or json")
        return value.lower()
    if kind == "dburl":
        return normalize_database_url(value)
    if kind == "appid":
        if not value.isdigit() or int(value) < 1:
            raise ValueError("must be a whole number (the numeric ID GitHub shows on the App's settings page)")
        return int(value)
    if kind == "pem":
        return private_key_pem(value)
    if kind == "pemfile":
        try:
            text = Path(value).expanduser().read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValueError("cannot be read (no such file)") from None
        except (OSError, UnicodeDecodeError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a text file"
            raise ValueError(f"cannot be read ({why.lower()})") from None
        register_private_key(text)
        return private_key_pem(text)
    raise AssertionError(kind)


_PEM_ARMOR = re.compile(r"-----(BEGIN|END) [A-Z ]+-----")


def register_private_key(text: str) -> None:
    """Mask a private key in every output: as given, and each line of its body (a fragment
    of the key in a message is masked too)."""
    register_secret(text)
    register_secret(text.strip())
    for line in text.replace("\\n", "\n").splitlines():
        line = line.strip()
        if line and not _PEM_ARMOR.fullmatch(line):
            register_secret(line)


@functools.lru_cache(maxsize=4)
def private_key_pem(raw: str) -> str:
    """The App's RSA private key as PEM text (accepting `\\n`-escaped newlines, as env vars
    often carry them); ValueError, never quoting the key, when it is not one. Checked once
    per key (parsing one takes ~30 ms; 0.2.1-style library calls read the settings each time)."""
    text = raw.strip().replace("\\r\\n", "\n").replace("\\n", "\n").replace("\r\n", "\n")
    text = text.strip().strip('"').strip("'").strip()
    register_private_key(raw)
    register_private_key(text)
    if "-----BEGIN" not in text:
        raise ValueError("must be a PEM private key (the .pem file GitHub generates, starting -----BEGIN)")
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(text.encode(), password=None)
    except TypeError:
        raise ValueError(
            "is encrypted with a passphrase; GitHub's App keys are not (use the .pem GitHub gave)"
        ) from None
    except Exception:  # cryptography raises ValueError or UnsupportedAlgorithm
        raise ValueError("is not a readable PEM private key (damaged or cut short?)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("must be an RSA private key (GitHub Apps sign with RS256)")
    return text + "\n"


def normalize_database_url(value: str) -> str:
    """Accept the usual spellings and pick the installed drivers (psycopg 3)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if value.startswith("postgres://"):
        value = "postgresql+psycopg://" + value[len("postgres://") :]
    elif value.startswith("postgresql://"):
        value = "postgresql+psycopg://" + value[len("postgresql://") :]
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError("must be a SQLAlchemy database URL (sqlite:///file.db or postgresql+psycopg://...)") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError("must be a SQLite or PostgreSQL URL")
    return value


def read_environment(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> dict[str, str]:
    """The process environment over the `.env` file (the environment wins)."""
    merged: dict[str, str] = {}
    if env_file and Path(env_file).is_file():
        from dotenv import dotenv_values

        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    return merged


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Build Settings or raise ConfigError listing every problem (key names only)."""
    env = read_environment(environ, env_file)
    values: dict = {}
    problems: list[str] = []
    for key, (name, kind) in _KEYS.items():
        raw = env.get(key)
        if raw is None or (raw.strip() == "" and kind != "bool"):
            continue
        try:
            values[name] = _parse(kind, key, raw)
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
    for key in SECRET_KEYS:
        register_secret(env.get(key))
    for key in ("ORC_STAGING_GITRELOAD", "ORC_PRODUCTION_GITRELOAD", "DATABASE_URL"):
        _register_url_password(env.get(key))

    slack_http = values.get("slack_bot_token") or values.get("slack_signing_secret")
    if values.get("slack_app_token") and not values.get("slack_bot_token"):
        problems.append("SLACK_BOT_TOKEN: required when SLACK_APP_TOKEN is set (Socket Mode)")
    elif slack_http and not values.get("slack_app_token"):
        for key, name in (("SLACK_BOT_TOKEN", "slack_bot_token"), ("SLACK_SIGNING_SECRET", "slack_signing_secret")):
            if not values.get(name):
                problems.append(f"{key}: required when Slack is configured for HTTP mode")
    problems.extend(_app_problems(env, values))
    app = bool(values.get("gh_app_id") and values.get("gh_app_private_key"))
    if values.get("slack_bot_token") and not values.get("gh_token") and not app:
        problems.append(f"ORC_GH_OAUTH2_TOKEN: required to run the Slack bot ({OR_APP})")
    zendesk = [k for k in ("zendesk_subdomain", "zendesk_email", "zendesk_api_token") if values.get(k)]
    if zendesk and len(zendesk) < 3 and not (values.get("zendesk_url") and len(zendesk) == 2):
        for key, name in (
            ("ZENDESK_SUBDOMAIN", "zendesk_subdomain"),
            ("ZENDESK_EMAIL", "zendesk_email"),
            ("ZENDESK_API_TOKEN", "zendesk_api_token"),
        ):
            if not values.get(name) and not (name == "zendesk_subdomain" and values.get("zendesk_url")):
                problems.append(f"{key}: required when Zendesk is configured")
    if values.get("gh_write_burst", 1) > values.get("gh_writes_per_minute", Settings.gh_writes_per_minute):
        problems.append("ORC_GH_WRITE_BURST: must be at most ORC_GH_WRITES_PER_MINUTE")
    if problems:
        raise ConfigError(problems)
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in values.items() if k in known})


NO_CREDENTIALS = (
    "ORC_GH_OAUTH2_TOKEN: required to change GitHub (set it, or a GitHub App with ORC_GH_APP_ID and "
    "ORC_GH_APP_PRIVATE_KEY; or use --dry-run)"
)
OR_APP = "or a GitHub App: ORC_GH_APP_ID with ORC_GH_APP_PRIVATE_KEY or ORC_GH_APP_PRIVATE_KEY_FILE"


def _app_problems(env: Mapping[str, str], values: dict) -> list[str]:
    """The GitHub App keys belong together, and stand instead of the token, not beside it."""
    given = {key for key in _APP_KEYS if (env.get(key) or "").strip()}
    if not given:
        return []
    problems = []
    file_key = values.pop("gh_app_private_key_file", None)
    if "ORC_GH_APP_PRIVATE_KEY" in given and "ORC_GH_APP_PRIVATE_KEY_FILE" in given:
        problems.append("ORC_GH_APP_PRIVATE_KEY_FILE: set it or ORC_GH_APP_PRIVATE_KEY, not both")
    elif file_key is not None:
        values["gh_app_private_key"] = file_key
    has_key = given & {"ORC_GH_APP_PRIVATE_KEY", "ORC_GH_APP_PRIVATE_KEY_FILE"}
    if "ORC_GH_APP_ID" not in given:
        problems.append("ORC_GH_APP_ID: required when a GitHub App key or installation is set")
    if not has_key:
        problems.append(
            "ORC_GH_APP_PRIVATE_KEY: required when ORC_GH_APP_ID is set (the App's .pem, or ORC_GH_APP_PRIVATE_KEY_FILE)"
        )
    if (env.get("ORC_GH_OAUTH2_TOKEN") or "").strip():
        problems.append(
            "ORC_GH_OAUTH2_TOKEN: set it or the GitHub App (ORC_GH_APP_ID), not both: they act as different accounts"
        )
    return problems


_APP_KEYS = ("ORC_GH_APP_ID", "ORC_GH_APP_PRIVATE_KEY", "ORC_GH_APP_PRIVATE_KEY_FILE", "ORC_GH_APP_INSTALLATION_ID")


def _register_url_password(url: str | None) -> None:
    """A URL's password, in its userinfo or as a `password=`/`sslpassword=` query parameter
    (PostgreSQL's), becomes a secret that every log line and message masks."""
    if url:
        try:
            parts = urlsplit(url.strip())
            register_secret(unquote(parts.password) if parts.password else None)
            register_secret(parts.password)
            for name, value in parse_qsl(parts.query):
                if name.lower() in ("password", "sslpassword"):
                    register_secret(value)
        except ValueError:
            pass


def configure() -> None:
    """Set the `ORC_*` attributes from the environment (and `.env`), as at import."""
    env = read_environment()
    for key, default in CONFIG_KEYS.items():
        raw = env.get(key)
        value = default if raw is None or raw.strip() == "" else raw
        globals()[key] = value
        _configured[key] = value


def assigned() -> dict[str, str | None]:
    """The `ORC_*` attributes a script has set since the last `configure()`."""
    module = globals()
    return {key: module[key] for key in CONFIG_KEYS if module.get(key) != _configured.get(key)}


def library_settings() -> Settings:
    """Settings for a library call without a context: the environment, with every `ORC_*`
    attribute a script assigned taking its key's place (checked like the key itself)."""
    env = read_environment()
    for key, value in assigned().items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return load_settings(env, env_file=None)


configure()
