"""Alert rules: the TOML file behind ``--alerts FILE`` (docs/ALERTS.md), read into :class:`Rule`.

One ``[[alert]]`` table per rule::

    [[alert]]
    name = "big gift"          # unique; names the rule in the store, the page and the webhook
    kind = "gift"              # gift | gift_spike | gifter_joined | gifter_comment | keyword | goal
    coins = 5000               # the kind's settings (below)
    host = "@creator"          # optional: only this creator's LIVEs (default: every creator)
    cooldown_s = 0             # optional: after firing, the rule is quiet this long in that room
    webhook = "https://example.com/hook"   # optional: a URL, a list of them, or tables:

    [[alert.webhook]]                  # (instead of the webhook line) one table per URL
    url = "https://api.telegram.org/bot…/sendMessage"
    kind = "telegram"                  # json (default) | discord | telegram
    chat_id = "-100…"

Everything is checked when the file is read: an unknown kind or key (a typo must not silently
turn a rule off), a wrong type, a value out of range, a duplicate name — each is one line naming
the file, the rule and the field.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from liveworth.decode.formats import MAX_HOST
from liveworth.economy.money import MAX_COINS
from liveworth.errors import UsageError

KINDS = ("gift", "gift_spike", "gifter_joined", "gifter_comment", "keyword", "goal")
#: The webhook body shapes: plain JSON (the alert), Discord's and Telegram's message bodies.
WEBHOOK_KINDS = ("json", "discord", "telegram")
#: A rule's cooldown when the file gives none (seconds): a comment or keyword rule stays quiet
#: a little while; a gift, a gifter's arrival and a goal fire on every trigger (a gifter's
#: arrival and a goal at most once per LIVE anyway).
DEFAULT_COOLDOWN_S = {"gift": 0, "gift_spike": 300, "gifter_joined": 0, "gifter_comment": 60,
                      "keyword": 30, "goal": 0}
MAX_RULES = 200
MAX_NAME = 100
MAX_WORDS = 200
MAX_WORD = 100
MAX_WEBHOOKS = 10
MAX_URL = 2000
MAX_SECONDS = 7 * 86400
MAX_FILE_BYTES = 1 << 20
_COMMON = {"name", "kind", "host", "cooldown_s", "webhook"}
_SETTINGS = {
    "gift": {"coins"},
    "gift_spike": {"window_s", "factor", "warmup_s", "min_coins"},
    "gifter_joined": {"coins", "tag"},
    "gifter_comment": {"coins", "tag"},
    "keyword": {"words"},
    "goal": {"target", "unit"},
}
GOAL_UNITS = ("coins", "creator_usd")
_PRINTABLE = re.compile(r"[^\x00-\x1f\x7f-\x9f]+")


@dataclass(frozen=True, slots=True)
class Webhook:
    url: str
    kind: str = "json"  # one of WEBHOOK_KINDS
    chat_id: str | None = None  # Telegram's chat

    @property
    def where(self) -> str:
        """The URL without path or query (Discord and Telegram keep their secret there): what
        a log line may show."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    kind: str
    host: str | None = None  # as stored (no @), lower case; None: every creator
    cooldown_s: float = 0.0
    webhooks: tuple[Webhook, ...] = ()
    coins: int | None = None  # gift: at least; gifter_*: lifetime coins to the host at least
    tag: str | None = None  # gifter_*: a CRM tag
    window_s: float = 60.0  # gift_spike
    factor: float = 3.0
    warmup_s: float = 600.0
    min_coins: int = 100
    words: tuple[str, ...] = ()  # keyword
    target: Decimal = Decimal(0)  # goal
    unit: str = "coins"
    pattern: re.Pattern[str] | None = field(default=None, compare=False)

    def applies_to(self, host: str | None) -> bool:
        return self.host is None or (host or "").lstrip("@").lower() == self.host


def load_rules(path: str | Path) -> tuple[Rule, ...]:
    """The rules of the TOML file at ``path``; a :class:`UsageError` naming the file, the rule and
    the field for anything wrong."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise UsageError(f"{p}: an alerts file is at most {MAX_FILE_BYTES:,} bytes, this one "
                             f"has {size:,}")
        data = tomllib.loads(p.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{p}: no such alerts file") from None
    except IsADirectoryError:
        raise UsageError(f"{p}: is a directory, not an alerts file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{p}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{p}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise UsageError(f"{p}: cannot read the alerts file: {exc.strerror or exc}") from None
    return parse_rules(data, str(p))


def parse_rules(data: Mapping[str, Any], where: str) -> tuple[Rule, ...]:
    extra = set(data) - {"alert"}
    if extra:
        raise UsageError(f"{where}: unknown top-level key {sorted(extra)[0]!r} (rules are "
                         "[[alert]] tables)")
    tables = data.get("alert")
    if not isinstance(tables, list) or not tables:
        raise UsageError(f"{where}: no [[alert]] rules")
    if len(tables) > MAX_RULES:
        raise UsageError(f"{where}: at most {MAX_RULES} rules, this file has {len(tables):,}")
    rules: list[Rule] = []
    for i, table in enumerate(tables, 1):
        if not isinstance(table, dict):
            raise UsageError(f"{where}: alert {i}: not a table")
        rule = _rule(table, f"{where}: alert {i}")
        if any(r.name == rule.name for r in rules):
            raise UsageError(f"{where}: alert {i}: name {rule.name!r} is used by an earlier rule")
        rules.append(rule)
    return tuple(rules)


def _rule(t: dict[str, Any], at: str) -> Rule:
    name = _text(t, "name", at, MAX_NAME, required=True)
    assert name is not None
    at = f"{at} ({name!r})"
    kind = t.get("kind")
    if kind not in KINDS:
        raise UsageError(f"{at}: kind: must be one of {', '.join(KINDS)}, got {kind!r}")
    unknown = set(t) - _COMMON - _SETTINGS[kind]
    if unknown:
        raise UsageError(f"{at}: unknown key {sorted(unknown)[0]!r} for kind {kind!r} (its "
                         f"settings: {', '.join(sorted(_SETTINGS[kind]))})")
    host = _text(t, "host", at, MAX_HOST + 1)
    host = host.lstrip("@").lower() if host else None
    if host is not None and not host:
        raise UsageError(f"{at}: host: empty")
    cooldown = _seconds(t, "cooldown_s", at, DEFAULT_COOLDOWN_S[kind], low=0.0)
    common: dict[str, Any] = {"name": name, "kind": kind, "host": host, "cooldown_s": cooldown,
                              "webhooks": _webhooks(t.get("webhook"), at)}
    return Rule(**common, **_settings(kind, t, at))


def _settings(kind: str, t: dict[str, Any], at: str) -> dict[str, Any]:
    if kind == "gift":
        return {"coins": _coins(t, "coins", at, required=True)}
    if kind == "gift_spike":
        window = _seconds(t, "window_s", at, 60.0, low=10.0)
        factor = _number(t, "factor", at, 3.0)
        if not 1.0 < factor <= 1000.0:
            raise UsageError(f"{at}: factor: must be above 1 and at most 1000, got {factor:g}")
        return {"window_s": window, "factor": factor,
                "warmup_s": _seconds(t, "warmup_s", at, 10 * window, low=window),
                "min_coins": _coins(t, "min_coins", at, default=100)}
    if kind in ("gifter_joined", "gifter_comment"):
        coins = _coins(t, "coins", at)
        tag = _text(t, "tag", at, MAX_NAME)
        if coins is None and not tag:
            raise UsageError(f"{at}: give coins (lifetime coins to the host, at least) or tag "
                             "(a CRM tag), or both")
        return {"coins": coins, "tag": tag}
    if kind == "keyword":
        words = _words(t, at)
        alternatives = "|".join(r"\s+".join(re.escape(part) for part in w.split())
                                for w in sorted(words, key=len, reverse=True))
        return {"words": words,
                "pattern": re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)}
    unit = t.get("unit", "coins")
    if unit not in GOAL_UNITS:
        raise UsageError(f"{at}: unit: must be one of {', '.join(GOAL_UNITS)}, got {unit!r}")
    return {"target": _target(t, at, unit), "unit": unit}


def _text(t: dict[str, Any], key: str, at: str, limit: int, *,
          required: bool = False) -> str | None:
    value = t.get(key)
    if value is None:
        if required:
            raise UsageError(f"{at}: {key}: missing")
        return None
    if not isinstance(value, str):
        raise UsageError(f"{at}: {key}: must be text, got {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise UsageError(f"{at}: {key}: empty")
    if len(value) > limit:
        raise UsageError(f"{at}: {key}: at most {limit:,} characters, got {len(value):,}")
    if value and not _PRINTABLE.fullmatch(value):
        raise UsageError(f"{at}: {key}: control characters are not allowed")
    return value


def _number(t: dict[str, Any], key: str, at: str, default: float) -> float:
    value = t.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise UsageError(f"{at}: {key}: must be a number, got {value!r}")
    return float(value)


def _seconds(t: dict[str, Any], key: str, at: str, default: float, *, low: float) -> float:
    value = _number(t, key, at, default)
    if not low <= value <= MAX_SECONDS:
        raise UsageError(f"{at}: {key}: must be from {low:g} to {MAX_SECONDS:,} seconds, "
                         f"got {value:g}")
    return value


def _coins(t: dict[str, Any], key: str, at: str, *, required: bool = False,
           default: int | None = None) -> int | None:
    value = t.get(key, default)
    if value is None:
        if required:
            raise UsageError(f"{at}: {key}: missing (a whole number of coins)")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{at}: {key}: must be a whole number of coins, got {value!r}")
    if not 1 <= value <= MAX_COINS:
        raise UsageError(f"{at}: {key}: must be from 1 to {MAX_COINS:,} coins, got {value:,}")
    return value


def _target(t: dict[str, Any], at: str, unit: str) -> Decimal:
    value = t.get("target")
    if value is None:
        raise UsageError(f"{at}: target: missing")
    if unit == "coins":
        coins = _coins(t, "target", at, required=True)
        assert coins is not None
        return Decimal(coins)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UsageError(f"{at}: target: must be an amount of creator USD, got {value!r}")
    try:  # a float is read as written (TOML's 2.5), a string exactly ("2.50")
        amount = Decimal(str(value))
    except InvalidOperation:
        raise UsageError(f"{at}: target: not an amount of USD: {value!r}") from None
    if not amount.is_finite() or not Decimal("0.01") <= amount <= Decimal(10**13):
        raise UsageError(f"{at}: target: must be from 0.01 to 10,000,000,000,000 USD, "
                         f"got {value!r}")
    return amount


def _words(t: dict[str, Any], at: str) -> tuple[str, ...]:
    words = t.get("words")
    if isinstance(words, str):
        words = [words]
    if not isinstance(words, list) or not words:
        raise UsageError(f"{at}: words: missing (a list of words or phrases)")
    if len(words) > MAX_WORDS:
        raise UsageError(f"{at}: words: at most {MAX_WORDS} words, got {len(words):,}")
    out: list[str] = []
    for w in words:
        if not isinstance(w, str) or not w.strip():
            raise UsageError(f"{at}: words: each must be non-empty text, got {w!r}")
        if len(w) > MAX_WORD or not _PRINTABLE.fullmatch(w):
            raise UsageError(f"{at}: words: {w[:40]!r}: at most {MAX_WORD} printable characters")
        out.append(" ".join(w.split()))
    return tuple(out)


def _webhooks(value: Any, at: str) -> tuple[Webhook, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    if len(items) > MAX_WEBHOOKS:
        raise UsageError(f"{at}: webhook: at most {MAX_WEBHOOKS} URLs, got {len(items)}")
    out = []
    for item in items:
        hook = item if isinstance(item, dict) else {"url": item}
        unknown = set(hook) - {"url", "kind", "chat_id"}
        if unknown:
            raise UsageError(f"{at}: webhook: unknown key {sorted(unknown)[0]!r} (url, kind, "
                             "chat_id)")
        url = _url(hook.get("url"), at)
        kind = hook.get("kind", "json")
        if kind not in WEBHOOK_KINDS:
            raise UsageError(f"{at}: webhook: kind must be one of {', '.join(WEBHOOK_KINDS)}, "
                             f"got {kind!r}")
        chat = hook.get("chat_id")
        if isinstance(chat, int) and not isinstance(chat, bool):
            chat = str(chat)
        if kind == "telegram" and (not isinstance(chat, str) or not chat.strip()):
            raise UsageError(f"{at}: webhook: a telegram webhook needs chat_id")
        out.append(Webhook(url, kind, str(chat) if kind == "telegram" else None))
    return tuple(out)


def _url(url: Any, at: str) -> str:
    if not isinstance(url, str) or not url:
        raise UsageError(f"{at}: webhook: url must be text, got {url!r}")
    if len(url) > MAX_URL or not _PRINTABLE.fullmatch(url) or " " in url:
        raise UsageError(f"{at}: webhook: not a URL (spaces, control characters or over "
                         f"{MAX_URL:,} characters)")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{at}: webhook: must be an http:// or https:// URL with a host, got "
                         f"{parts.scheme + '://' if parts.scheme else url[:40]!r}")
    try:
        parts.port  # noqa: B018 - a bad port raises
    except ValueError:
        raise UsageError(f"{at}: webhook: bad port in {parts.netloc!r}") from None
    return url
