"""The live view of ``liveworth record``: each creator's status, reason and figures, fitting the
terminal (a table from :data:`WIDE_VIEW` columns, a few wrapped lines a creator below)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from liveworth.economy.money import creator_usd, usd
from liveworth.economy.numbers import count
from liveworth.economy.ratecard import RateCard
from liveworth.render.terminal import term, visible

if TYPE_CHECKING:
    from rich.console import RenderableType

    from liveworth.ingest.connection import CreatorState, Quota


#: Console columns from which the live view is a table (below: a few wrapped lines a creator).
WIDE_VIEW = 150


def view(states: dict[str, CreatorState], card: RateCard, quota: Quota | None,
         width: int = 200) -> RenderableType:
    """The live view, fitting ``width`` columns: a table when wide, a few wrapped lines per
    creator when narrow (at 80 columns no name or state is cut), then each creator's state in
    full when the table shows it short, then the sign-server quota."""
    from rich.console import Group
    from rich.text import Text

    parts: list[RenderableType] = (
        [_view_table(states, card)] if width >= WIDE_VIEW else _view_lines(states, card))
    parts = [Text("liveworth record — Ctrl-C stops and reports", style="bold"), *parts]
    for st in states.values():
        if width >= WIDE_VIEW and st.reason:
            parts.append(Text(visible(f"@{st.host}: {st.state}")))
    if quota is not None:
        left = quota.left()
        parts.append(Text(f"sign-server quota left: {left['minute']}/min, {left['hour']}/h, "
                          f"{left['day']}/day"))
    return Group(*parts)


def _view_table(states: dict[str, CreatorState], card: RateCard) -> RenderableType:
    from rich.table import Table

    t = Table()
    whole = {"creator": max([len(f"@{term(st.host)}") for st in states.values()] + [7]),
             "state": max([len(st.status) for st in states.values()] + [5])}
    for name in ("creator", "state", "room", "coins", "creator USD", "viewers", "gifts/min",
                 "top gifters", "msgs"):  # names and states whole; the gifters wrap
        t.add_column(name, min_width=whole.get(name), no_wrap=name in whole)
    for st in states.values():
        t.add_row(f"@{term(st.host)}", term(st.status), term(st.room_id or "-"),
                  f"{st.coins:,}", usd(creator_usd(st.coins, card)),
                  "-" if st.viewers is None else f"{st.viewers:,}", f"{st.gifts_last_minute:,}",
                  ", ".join(f"{term(u)} {c:,}" for u, c in st.top_gifters) or "-",
                  f"{st.messages:,}" + (f" ({count(st.reconnects, 'reconnect')})"
                                        if st.reconnects else ""))
    return t


def _view_lines(states: dict[str, CreatorState], card: RateCard) -> list[RenderableType]:
    """Each creator in lines that wrap instead of being cut (plain text: nothing is markup)."""
    from rich.text import Text

    out: list[RenderableType] = []
    for st in states.values():
        again = f" ({count(st.reconnects, 'reconnect')})" if st.reconnects else ""
        viewers = "-" if st.viewers is None else f"{st.viewers:,}"
        lines = [f"@{st.host} · {st.state} · {count(st.coins, 'coin')} · "
                 f"creator {usd(creator_usd(st.coins, card))}",
                 f"  {viewers} viewers · {st.gifts_last_minute:,} gifts/min · "
                 f"{count(st.messages, 'msg')}{again} · room {st.room_id or '-'}"]
        if st.top_gifters:
            lines.append("  top gifters: " + ", ".join(f"{u} {c:,}" for u, c in st.top_gifters))
        out.extend(Text(visible(line)) for line in lines)
    return out
