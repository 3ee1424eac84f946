"""``liveworth alerts`` (the stored alerts; ``--check FILE`` reads a rules file) and the
``--alerts FILE`` option of ``record`` (:class:`AlertsRun`) — docs/ALERTS.md."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from liveworth.cli.options import CommandFactory, add_db, add_json, date_value, print_json, when
from liveworth.economy.numbers import plain_int
from liveworth.render.terminal import term, visible

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rich.console import Console

    from liveworth.alerts.engine import Alert
    from liveworth.alerts.rules import Rule
    from liveworth.economy.ratecard import RateCard
    from liveworth.store.database import Store

#: How long a recording waits, when it ends, for the webhooks still queued.
CLOSE_S = 10.0


def add_alerts_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--alerts", type=Path, metavar="FILE",
                   help="alert rules (TOML, docs/ALERTS.md): fired alerts are stored, shown and "
                        "POSTed to each rule's webhooks")


def read_rules(args: argparse.Namespace) -> tuple[Rule, ...]:
    """The rules of ``--alerts`` (none without it); a usage error for a bad file."""
    if getattr(args, "alerts", None) is None:
        return ()
    from liveworth.alerts.rules import load_rules

    return load_rules(args.alerts)


class AlertsRun:
    """The alerts of one recording: the watcher the writer calls after each ledger update, and
    the webhook delivery. Each new alert is also told: a JSON line (``--json``), else a line on
    the terminal."""

    def __init__(self, rules: tuple[Rule, ...], card: RateCard, console: Console, *,
                 write_json: Callable[[dict[str, Any]], None] | None = None) -> None:
        from liveworth.alerts.delivery import Delivery
        from liveworth.alerts.watch import AlertWatch

        self.console = console
        self.write_json = write_json
        self.delivery = Delivery(rules, log=self._warn)
        self.watch = AlertWatch(rules, card, on_alert=self._fired)
        self._lock = threading.Lock()

    def on_ledger(self, store: Store, rooms: Sequence[str], final: bool) -> None:
        self.watch.update(store, rooms, final=final)

    def _fired(self, alert: Alert) -> None:
        self.delivery(alert)
        with self._lock:
            if self.write_json is not None:
                self.write_json({"type": "alert", "time": _iso(alert.ts), **alert.as_dict()})
            else:
                self.console.print(f"ALERT \\[{term(alert.rule)}] @{term(alert.host)}: "
                                   f"{term(alert.text)}", highlight=False)

    def _warn(self, line: str) -> None:
        sys.stderr.write(f"liveworth record: warning: {visible(line)}\n")

    def close(self) -> dict[str, Any]:
        """Wait (a little) for queued webhooks; the figures for the summary."""
        done = self.delivery.close(CLOSE_S)
        s = self.delivery.stats
        return {"fired": self.watch.fired, "delivered": s.delivered, "failed": s.failed,
                "dropped": s.dropped, "pending": not done}


def _iso(ms: int) -> str:
    t = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _since_ms(args: argparse.Namespace) -> int | None:
    if args.since is None:
        return None
    from liveworth.analysis.sessionstats import zone

    start = dt.datetime.combine(args.since, dt.time(), tzinfo=zone(args.tz))
    return int(start.timestamp() * 1000)


def cmd_alerts(args: argparse.Namespace, console: Console) -> int:
    if args.check is not None:
        return _check(args, console)
    from liveworth.alerts.stored import stored_alerts
    from liveworth.store.database import Store

    since = _since_ms(args)
    with Store.open(args.db, read_only=True) as store:
        alerts = stored_alerts(store, host=args.host, room_id=args.room, since_ms=since,
                               limit=args.limit, newest_first=True)
    alerts.reverse()
    if args.json:
        print_json(console, [{"time": _iso(a.ts), **a.as_dict()} for a in alerts])
        return 0
    if not alerts:
        console.print("no alerts stored" + (" for that selection" if args.host or args.room
                                            or since is not None else ""))
        return 0
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("time", "host", "rule", "kind", "alert"):
        table.add_column(col)
    for a in alerts:
        table.add_row(when(a.ts), "@" + term(a.host), term(a.rule), a.kind, term(a.text))
    console.print(table)
    return 0


def _check(args: argparse.Namespace, console: Console) -> int:
    from liveworth.alerts.rules import load_rules

    rules = load_rules(args.check)
    if args.json:
        print_json(console, [_rule_json(r) for r in rules])
        return 0
    for r in rules:
        hooks = ", ".join(f"{h.kind} {h.where}" for h in r.webhooks) or "no webhook"
        console.print(f"{term(r.name)}: {r.kind} {term(_settings(r))} · host "
                      f"{'@' + term(r.host) if r.host else 'every creator'} · cooldown "
                      f"{r.cooldown_s:g} s · {term(hooks)}", highlight=False)
    console.print(f"{args.check}: {len(rules)} rule{'s' if len(rules) != 1 else ''}, all valid")
    return 0


def _settings(r: Rule) -> str:
    if r.kind == "gift":
        return f"≥ {r.coins:,} coins"
    if r.kind == "gift_spike":
        return (f"{r.window_s:g} s window ≥ {r.factor:g}× baseline and ≥ {r.min_coins:,} "
                f"coins, after {r.warmup_s:g} s")
    if r.kind in ("gifter_joined", "gifter_comment"):
        parts = ([f"lifetime ≥ {r.coins:,} coins"] if r.coins is not None else []) + \
                ([f"tag {r.tag!r}"] if r.tag else [])
        return " or ".join(parts)
    if r.kind == "keyword":
        return "words " + ", ".join(repr(w) for w in r.words)
    return f"target {r.target} {r.unit}"


def _rule_json(r: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"name": r.name, "kind": r.kind, "host": r.host,
                           "cooldown_s": r.cooldown_s,
                           "webhooks": [{"kind": h.kind, "where": h.where} for h in r.webhooks]}
    if r.kind in ("gift", "gifter_joined", "gifter_comment"):
        out["coins"] = r.coins
    if r.kind in ("gifter_joined", "gifter_comment"):
        out["tag"] = r.tag
    if r.kind == "gift_spike":
        out.update(window_s=r.window_s, factor=r.factor, warmup_s=r.warmup_s,
                   min_coins=r.min_coins)
    if r.kind == "keyword":
        out["words"] = list(r.words)
    if r.kind == "goal":
        out.update(target=str(r.target), unit=r.unit)
    return out


def _limit(text: str) -> int:
    """``--limit``: 1 to 10,000, written as the other counts are (``+5``, ``1_0`` refused)."""
    try:
        value = plain_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:24]!r}") from None
    if not 1 <= value <= 10_000:
        raise argparse.ArgumentTypeError(f"must lie between 1 and 10,000: {text[:24]}")
    return value


def register(command: CommandFactory) -> None:
    p = command("alerts", cmd_alerts, "stored alerts (fired by record --alerts), or check a "
                "rules file",
                "List the alerts recordings and replays fired (record --alerts FILE), oldest "
                "first; or, with --check FILE, read an alerts file and show its rules "
                "(docs/ALERTS.md).")
    add_db(p)
    p.add_argument("--host", metavar="@USER", help="only this creator's alerts")
    p.add_argument("--room", metavar="ROOM_ID", help="only this session's alerts")
    p.add_argument("--since", type=date_value, metavar="DATE",
                   help="only alerts on or after this day (YYYY-MM-DD, in --tz)")
    p.add_argument("--tz", default="UTC", help="time zone of --since (default UTC)")
    p.add_argument("--limit", type=_limit, default=1000,
                   help="the newest N at most (default 1,000)")
    p.add_argument("--check", type=Path, metavar="FILE",
                   help="read this alerts file and show its rules instead")
    add_json(p)
