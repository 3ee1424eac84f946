"""The rate card: every parameter of the money model, as data, with its source and date.

The bundled card is ``data/ratecard.toml``. A card in force is built from, in order (later wins):

1. the bundled parameters;
2. a named preset (``default``, ``us-scaled``);
3. the user's config file — ``$LIVEWORTH_CONFIG``, else ``$XDG_CONFIG_HOME/liveworth/config.toml``,
   else ``~/.config/liveworth/config.toml`` (see docs/RATES.md for its format);
4. overrides given on the command line.

Each value remembers where it came from, so every report can say why a number is what it is.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Context, Decimal, localcontext
from functools import cache
from pathlib import Path
from typing import Any

from liveworth.economy.numbers import DECIMAL_TEXT, INTEGER_TEXT
from liveworth.errors import ConfigError, UsageError

PRESETS = ("default", "us-scaled")

#: Parameters that are shares and must lie in 0..1.
SHARE_PARAMETERS = frozenset({"reward_rate", "agency_cut", "tax_rate"})
#: Every overridable parameter and its kind.
PARAMETERS: dict[str, str] = {
    "diamonds_per_coin": "decimal",
    "usd_per_diamond": "decimal",
    "reward_rate": "share",
    "agency_cut": "share",
    "tax_rate": "share",
    "min_withdrawal_usd": "decimal",
    "max_withdrawal_per_day_usd": "decimal",
    "withdrawal_fee_usd": "decimal",
    "payout_processing_days": "int",
}
#: The range every parameter must lie in (inclusive). Wider than any real card, narrow enough
#: that the money model's exact arithmetic (60 significant digits) cannot overflow.
LIMITS: dict[str, tuple[Decimal, Decimal]] = {
    "diamonds_per_coin": (Decimal(0), Decimal(1000)),
    "usd_per_diamond": (Decimal(0), Decimal(100)),
    "reward_rate": (Decimal(0), Decimal(1)),
    "agency_cut": (Decimal(0), Decimal(1)),
    "tax_rate": (Decimal(0), Decimal(1)),
    "min_withdrawal_usd": (Decimal(0), Decimal(1_000_000)),
    "max_withdrawal_per_day_usd": (Decimal("0.01"), Decimal(1_000_000)),
    "withdrawal_fee_usd": (Decimal(0), Decimal(10_000)),
    "payout_processing_days": (Decimal(0), Decimal(365)),
}
#: Decimal places a parameter or channel price may have: enough for any real rate, few enough
#: that ``creator_usd`` stays exact for every coin amount the CLI takes.
MAX_PLACES = 12
#: A coin channel's price: ``pack_usd`` in (0, MAX_PACK_USD], ``pack_coins`` in 1..MAX_PACK_COINS.
MAX_PACK_USD = Decimal(1_000_000)
MAX_PACK_COINS = 10**9
_PLACES = Decimal(1).scaleb(-MAX_PLACES)
#: What Decimal() reads as no finite number: refused as "must be a finite number".
_NOT_FINITE = re.compile(r"[-+]?(?:s?nan|inf(?:inity)?)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a value comes from: its source, the date it held and how much to trust it."""

    source: str
    date: str
    confidence: str
    set_by: str = "rate card"


@dataclass(frozen=True, slots=True)
class Channel:
    """How viewers buy coins: ``pack_coins`` coins (and ``bonus_coins`` more, free, as in-app
    packs carry) cost ``pack_usd`` dollars."""

    name: str
    pack_usd: Decimal
    pack_coins: int
    help: str
    provenance: Provenance
    bonus_coins: int = 0

    @property
    def coins_received(self) -> int:
        """The coins the pack gives: its coins and its bonus."""
        return self.pack_coins + self.bonus_coins

    @property
    def usd_per_coin(self) -> Decimal:
        return self.pack_usd / self.coins_received


@dataclass(frozen=True, slots=True)
class MissionStep:
    """One step of a missions schedule: reaching ``at`` (minutes, followers or LIVEs) earns
    ``rate`` (a share of the nominal diamond value)."""

    at: int
    rate: Decimal
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class MissionSchedule:
    """The Scaled LIVE rewards missions of a preset (``[presets.NAME.missions]``), as data;
    :mod:`liveworth.economy.missions` computes a LIVE's rate from them."""

    #: A LIVE of at least ``at`` minutes earns ``rate``: the highest step reached (ascending).
    duration: tuple[MissionStep, ...]
    #: ``at`` new followers during the LIVE add ``rate``.
    new_followers: MissionStep
    #: A LIVE of the week longer than this many minutes counts for the weekly missions.
    weekly_minutes: int
    #: ``at`` or more such LIVEs in the week add ``rate`` on the week's coins (ascending).
    weekly: tuple[MissionStep, ...]
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class RateCard:
    """The parameters in force. Build it with :func:`load_rate_card`."""

    preset: str
    version: str
    diamonds_per_coin: Decimal
    usd_per_diamond: Decimal
    reward_rate: Decimal
    agency_cut: Decimal
    tax_rate: Decimal
    min_withdrawal_usd: Decimal
    max_withdrawal_per_day_usd: Decimal
    withdrawal_fee_usd: Decimal
    payout_processing_days: int
    channels: Mapping[str, Channel]
    default_channel: str
    reward_rate_range: tuple[Decimal, Decimal] | None = None
    #: The preset's missions schedule; None without one or once ``reward_rate`` is set by the
    #: user (a rate of your own is used flat).
    missions: MissionSchedule | None = None
    provenance: Mapping[str, Provenance] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    helps: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """A short label naming the card in reports: preset, version and overridden values."""
        changed = sorted(
            k
            for k, p in self.provenance.items()
            if p.set_by != "rate card" and not p.set_by.startswith("preset ")
        )
        label = f"{self.preset}@{self.version}"
        if changed:
            label += " (" + ", ".join(f"{k}={self.value(k)}" for k in changed) + ")"
        return label

    def channel(self, name: str | None = None) -> Channel:
        key = name or self.default_channel
        try:
            return self.channels[key]
        except KeyError:
            raise UsageError(
                f"unknown coin channel {key!r} (choose from {', '.join(sorted(self.channels))})"
            ) from None

    def value(self, parameter: str) -> Decimal | int:
        return getattr(self, parameter)  # type: ignore[no-any-return]

    def with_overrides(self, overrides: Mapping[str, object], set_by: str) -> RateCard:
        """A copy with ``overrides`` (parameter name → value) applied and validated."""
        changes: dict[str, Any] = {}
        prov = dict(self.provenance)
        for key, raw in overrides.items():
            if key == "channel":
                channel = str(raw)
                self.channel(channel)  # validates
                changes["default_channel"] = channel
                continue
            if key not in PARAMETERS:
                raise ConfigError(
                    f"{set_by}: unknown rate card parameter {key!r} "
                    f"(known: {', '.join(sorted(PARAMETERS))}, channel)"
                )
            changes[key] = parse_parameter(key, raw, set_by)
            if key == "reward_rate":
                changes["missions"] = None  # a rate of your own replaces the missions
            old = prov.get(key, Provenance("", "", ""))
            prov[key] = replace(old, set_by=set_by)
        return replace(self, provenance=prov, **changes)


def parse_parameter(key: str, raw: object, where: str) -> Decimal | int:
    """Parse and range-check one parameter value given as text or number (never float)."""
    kind = PARAMETERS[key]
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float, Decimal)):
        raise ConfigError(f"{where}: {key} must be a number, got {raw!r}")
    low, high = LIMITS[key]
    if kind == "int":
        if isinstance(raw, int):
            ivalue = raw
        elif INTEGER_TEXT.fullmatch(text := str(raw).strip()):  # not int(): "0_0_1" is 1 to it
            ivalue = int(text)
        else:
            raise ConfigError(f"{where}: {key} must be a whole number (plain digits), got "
                              f"{raw!r}")
        if not low <= ivalue <= high:
            raise ConfigError(f"{where}: {key} must lie between {low} and {high}, got {ivalue}")
        return ivalue
    value = _decimal(raw, where, key)
    if not low <= value <= high:
        raise ConfigError(f"{where}: {key} must lie between {low} and {high}, got {raw}")
    return value


def _decimal(raw: object, where: str, key: str) -> Decimal:
    """A finite decimal with at most :data:`MAX_PLACES` places, or a ConfigError naming it."""
    if isinstance(raw, int | Decimal):
        value = Decimal(raw)
    else:
        text = str(raw).strip()
        # Decimal() alone would read "0_0_1" as 1 and "٠.5" (Arabic-Indic digits) as 0.5.
        if not DECIMAL_TEXT.fullmatch(text) and not _NOT_FINITE.fullmatch(text):
            raise ConfigError(f"{where}: {key} must be a decimal number (plain digits, e.g. "
                              f"0.46), got {raw!r}")
        value = Decimal(text)
    if not value.is_finite():
        raise ConfigError(f"{where}: {key} must be a finite number, got {raw!r}")
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # finite
    if exponent < -MAX_PLACES and value != value.quantize(
        _PLACES, context=Context(prec=max(60, value.adjusted() + MAX_PLACES + 2))
    ):
        raise ConfigError(
            f"{where}: {key} may have at most {MAX_PLACES} decimal places, got {raw!r}"
        )
    return value


@cache
def _bundled() -> dict[str, Any]:
    from importlib import resources  # here, not at import: it costs a fast start ~10 ms

    text = resources.files("liveworth.economy").joinpath("data", "ratecard.toml").read_text("utf-8")
    return tomllib.loads(text)


def _prov(entry: Mapping[str, Any]) -> Provenance:
    return Provenance(
        source=str(entry.get("source", "")),
        date=str(entry.get("date", "")),
        confidence=str(entry.get("confidence", "")),
    )


def _channels(raw: Mapping[str, Any], where: str) -> dict[str, Channel]:
    out = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or "pack_usd" not in entry or "pack_coins" not in entry:
            raise ConfigError(
                f"{where}: channel {name!r} needs pack_usd (decimal) and pack_coins (integer)"
            )
        pack_usd = _decimal(entry["pack_usd"], where, f"channels.{name}.pack_usd")
        if not 0 < pack_usd <= MAX_PACK_USD:
            raise ConfigError(f"{where}: channels.{name}.pack_usd must be a price above 0 and "
                              f"at most {MAX_PACK_USD}, got {entry['pack_usd']!r}")
        coins = entry["pack_coins"]
        if isinstance(coins, float) and coins.is_integer():
            coins = int(coins)
        if isinstance(coins, str) and INTEGER_TEXT.fullmatch(coins.strip()):
            coins = int(coins)
        if isinstance(coins, bool) or not isinstance(coins, int):
            raise ConfigError(f"{where}: channels.{name}.pack_coins must be a whole number, "
                              f"got {entry['pack_coins']!r}")
        if not 1 <= coins <= MAX_PACK_COINS:
            raise ConfigError(f"{where}: channels.{name}.pack_coins must lie between 1 and "
                              f"{MAX_PACK_COINS:,}, got {coins}")
        bonus = entry.get("bonus_coins", 0)
        if isinstance(bonus, str) and INTEGER_TEXT.fullmatch(bonus.strip()):
            bonus = int(bonus)
        if isinstance(bonus, bool) or not isinstance(bonus, int) or \
                not 0 <= bonus <= MAX_PACK_COINS:
            raise ConfigError(f"{where}: channels.{name}.bonus_coins must be a whole number from "
                              f"0 to {MAX_PACK_COINS:,}, got {entry['bonus_coins']!r}")
        out[name] = Channel(name, pack_usd, coins, str(entry.get("help", "")), _prov(entry),
                            bonus)
    return out


def config_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the user's config file lives (it need not exist)."""
    env = os.environ if env is None else env
    if env.get("LIVEWORTH_CONFIG"):
        return Path(env["LIVEWORTH_CONFIG"])
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "liveworth" / "config.toml"


def read_config(path: Path) -> dict[str, Any]:
    """Read a user config file; a missing file is an empty config, a broken one an error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file ({exc.__class__.__name__})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load_rate_card(
    preset: str | None = None,
    overrides: Mapping[str, object] | None = None,
    *,
    config: Mapping[str, Any] | None = None,
    config_name: str = "config file",
) -> RateCard:
    """The rate card in force: bundled values, then preset, then ``config``, then ``overrides``.

    ``preset`` None means the config's preset or ``default``.
    """
    raw = _bundled()
    config = config or {}
    chosen = _chosen_preset(raw, preset, config, config_name)
    card = _bundled_card(raw, _all_channels(raw, config, config_name))
    card = _with_preset(card, raw["presets"][chosen], chosen)
    card = _with_config(card, config, config_name)
    if overrides:
        card = card.with_overrides(overrides, "command line")
    _check_withdrawal_limits(card)
    _check_creator_share(card, set(config.get("channels", {})), config_name)
    return card


def _chosen_preset(raw: Mapping[str, Any], preset: str | None, config: Mapping[str, Any],
                   config_name: str) -> str:
    """The preset in force (``preset``, else the config's, else ``default``), once the config's
    keys are known to be valid."""
    unknown = set(config) - {"preset", "channel", "rates", "channels"}
    if unknown:
        raise ConfigError(f"{config_name}: unknown key(s) {', '.join(sorted(unknown))}")
    chosen = preset or str(config.get("preset", "default"))
    if chosen not in raw["presets"]:
        raise UsageError(f"unknown preset {chosen!r} (choose from {', '.join(raw['presets'])})")
    return chosen


def _all_channels(raw: Mapping[str, Any], config: Mapping[str, Any],
                  config_name: str) -> dict[str, Channel]:
    """The bundled coin channels, then the config's (added or replacing them)."""
    channels = _channels(raw["channels"], "bundled rate card")
    extra_channels = config.get("channels", {})
    if not isinstance(extra_channels, dict):
        raise ConfigError(f"{config_name}: [channels] must be a table")
    channels.update(_channels(extra_channels, config_name))
    return channels


def _bundled_card(raw: Mapping[str, Any], channels: Mapping[str, Channel]) -> RateCard:
    """The card of the bundled parameters alone (preset ``default``, channel ``blended``)."""
    params = raw["parameters"]
    values: dict[str, Any] = {
        k: parse_parameter(k, params[k]["value"], "bundled rate card") for k in PARAMETERS
    }
    return RateCard(
        preset="default",
        version=str(raw["version"]),
        channels=channels,
        default_channel="blended",
        provenance={k: _prov(params[k]) for k in PARAMETERS},
        units={k: str(params[k].get("unit", "")) for k in PARAMETERS},
        helps={k: str(params[k].get("help", "")) for k in PARAMETERS},
        **values,
    )


def _with_preset(card: RateCard, p: Mapping[str, Any], chosen: str) -> RateCard:
    """``card`` with preset ``chosen`` (its entry ``p``) applied, its source credited."""
    preset_values = {k: v for k, v in p.items() if k in PARAMETERS or k == "channel"}
    card = card.with_overrides(preset_values, f"preset {chosen}")
    prov = dict(card.provenance)
    for k in preset_values:
        if k in prov and "source" in p:
            prov[k] = replace(_prov(p), set_by=f"preset {chosen}")
    rng = None
    if "reward_rate_min" in p:
        rng = (Decimal(p["reward_rate_min"]), Decimal(p["reward_rate_max"]))
    missions = _missions(p["missions"], f"preset {chosen}") if "missions" in p else None
    return replace(card, preset=chosen, provenance=prov, reward_rate_range=rng,
                   missions=missions)


def _steps(raw: object, key: str, at: str, value: str, where: str) -> tuple[MissionStep, ...]:
    """A list of ``{at = N, value = "0.xx", source, confidence}`` tables, ``at`` ascending."""
    rows = raw if isinstance(raw, list) else [raw]
    steps = []
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get(at), int) or row[at] < 0:
            raise ConfigError(f"{where}: missions.{key} needs {at} (a whole number) and {value}")
        rate = _decimal(row.get(value, ""), where, f"missions.{key}.{value}")
        if not 0 <= rate <= 1:
            raise ConfigError(f"{where}: missions.{key}.{value} must lie between 0 and 1")
        steps.append(MissionStep(int(row[at]), rate, _prov(row)))
    if not steps or [s.at for s in steps] != sorted({s.at for s in steps}):
        raise ConfigError(f"{where}: missions.{key} must list {at} in ascending order")
    return tuple(steps)


def _missions(raw: Mapping[str, Any], where: str) -> MissionSchedule:
    """The ``[presets.NAME.missions]`` table read and checked."""
    duration = _steps(raw.get("duration"), "duration", "from_minutes", "rate", where)
    if duration[0].at != 0:
        raise ConfigError(f"{where}: missions.duration must start at from_minutes = 0")
    minutes = raw.get("weekly_minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0:
        raise ConfigError(f"{where}: missions.weekly_minutes must be a whole number")
    return MissionSchedule(
        duration=duration,
        new_followers=_steps(raw.get("new_followers"), "new_followers", "followers", "bonus",
                             where)[0],
        weekly_minutes=minutes,
        weekly=_steps(raw.get("weekly"), "weekly", "lives", "bonus", where),
        provenance=_prov(raw))


def _with_config(card: RateCard, config: Mapping[str, Any], config_name: str) -> RateCard:
    """``card`` with the config's ``[rates]`` and ``channel`` applied."""
    rates = config.get("rates", {})
    if not isinstance(rates, dict):
        raise ConfigError(f"{config_name}: [rates] must be a table")
    file_values: dict[str, object] = dict(rates)
    if "channel" in config:
        file_values["channel"] = config["channel"]
    if file_values:
        card = card.with_overrides(file_values, config_name)
    return card


def _check_withdrawal_limits(card: RateCard) -> None:
    """Refuse a card whose minimum withdrawal exceeds its daily maximum, naming who set them."""
    low, high = card.min_withdrawal_usd, card.max_withdrawal_per_day_usd
    if low > high:
        where = sorted({by for k in ("min_withdrawal_usd", "max_withdrawal_per_day_usd")
                        if (by := card.provenance[k].set_by) != "rate card"
                        and not by.startswith("preset ")}) or ["rate card"]
        raise ConfigError(f"{' and '.join(where)}: min_withdrawal_usd ({low}) must not exceed "
                          f"max_withdrawal_per_day_usd ({high})")


def _plain(value: Decimal | int) -> str:
    """A number as plain digits, without exponent or trailing zeros."""
    return format(Decimal(value).normalize(Context(prec=80)), "f")


def _set_by_user(card: RateCard, key: str) -> str | None:
    """Who set ``key`` if the user did (config file or command line), else None."""
    by = card.provenance[key].set_by
    return None if by == "rate card" or by.startswith("preset ") else by


def _check_creator_share(card: RateCard, own_channels: set[str], config_name: str) -> None:
    """Refuse a card under which the creator receives more for a coin than viewers pay for it on
    some channel (TikTok's share would be negative), naming who set which values."""
    share = ("diamonds_per_coin", "usd_per_diamond", "reward_rate")
    with localcontext(Context(prec=80)):  # exact: 36 places × 10^9 coins a pack at most
        per_coin = card.diamonds_per_coin * card.usd_per_diamond * card.reward_rate
        over = [ch for ch in card.channels.values() if per_coin * ch.pack_coins > ch.pack_usd]
    if not over:
        return
    ch = over[0]
    named = [(by, f"{k}={_plain(card.value(k))}") for k in share
             if (by := _set_by_user(card, k))]
    if ch.name in own_channels:
        named.append((config_name, f"channels.{ch.name}.pack_usd"))
    where = " and ".join(sorted({by for by, _ in named})) or "rate card"
    keys = ", ".join(k for _, k in named) or ", ".join(share)
    price = Context(prec=6, rounding=ROUND_FLOOR).plus(ch.pack_usd / ch.pack_coins)
    raise ConfigError(
        f"{where}: {keys}: the creator would receive ${_plain(per_coin)} a coin, more than "
        f"viewers pay on the {ch.name} channel (${_plain(price)} a coin); TikTok's share "
        "cannot be negative"
    )


def preset_help() -> dict[str, str]:
    """Each preset's one-line description."""
    return {name: str(p.get("help", "")) for name, p in _bundled()["presets"].items()}
