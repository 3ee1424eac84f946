"""The simulator: one realistic LIVE session in event format v1, with its ground truth.

It draws a session from the model (:mod:`liveworth.model.generative`) viewer by viewer and gift by
gift — vectorised with NumPy, so that it doubles as the load generator for benchmarks — and writes
what a recorder would have seen: ``live_start``, viewer counts, joins, comments, likes, follows,
shares, battles, gift frames and ``live_end``. Gift frames behave like TikTok's: a streak sends one
frame per step with a cumulative ``repeat_count`` and then a final frame (``repeat_end`` true)
under its own ``msg_id`` about 3 s after the last step; a few finals are resent (same group, new
``msg_id``, within 60 s) and a few never come; expensive gifts are one-shot frames.

The :class:`Truth` is what the counting rules (DESIGN.md) must credit: every streak at its highest
``repeat_count`` (unconfirmed when its final is missing), every one-shot gift once, resent finals
never. The only randomness is the injected :class:`numpy.random.Generator`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from liveworth.decode.events import (
    MAX_TS,
    Event,
)
from liveworth.errors import UsageError
from liveworth.model.generative import (
    FloatArray,
    GiftActs,
    GiftMenu,
    IntArray,
    ModelParams,
    arrival_rate,
    gift_acts,
    median_viewers,
    spend_table,
)
from liveworth.model.inputs import (
    MAX_ENGAGEMENT,
    MAX_FOLLOWERS,
    MAX_MINUTES,
    MAX_VIEWERS,
    out_of_range,
)
from liveworth.model.simulated import (
    BATTLE,
    COMMENT,
    FOLLOW,
    GIFT,
    JOIN,
    LIKE,
    LIVE_END,
    LIVE_START,
    PHRASES,
    SHARE,
    VIEWERS,
    BoolArray,
    Columns,
    CreditedGifts,
    SimulatedSession,
    Truth,
    to_ms,
)

# ------------------------------------------------------------------------------ the session


@dataclass(frozen=True, slots=True, eq=False)
class _Timeline:
    """Per-second intensities of one session (index i covers seconds [i, i + 1))."""

    seconds: int
    arrivals: FloatArray        # expected arrivals per second
    gift_boost: FloatArray      # gifting multiplier from chat bursts and battles
    chat_boost: FloatArray      # chat multiplier from bursts
    battles: FloatArray         # battle start seconds
    bursts: int


def _timeline(params: ModelParams, typical: float, minutes: float,
              rng: np.random.Generator) -> _Timeline:
    """Arrival rates, chat bursts and battles of one session on a one-second grid."""
    seconds = max(math.ceil(minutes * 60), 1)
    t_min = (np.arange(seconds, dtype=np.float64) + 0.5) / 60
    arrivals = typical * arrival_rate(params, t_min) / 60
    n_bursts = int(rng.poisson(params.chat_bursts_per_hour * minutes / 60))
    kernel = np.zeros(seconds, dtype=np.float64)
    tau = params.burst_minutes * 60
    for start in np.sort(rng.random(n_bursts) * seconds).tolist():
        i = int(start)
        kernel[i:] += np.exp(-(np.arange(i, seconds) - start) / tau)
    n_battles = int(rng.poisson(params.battles_per_hour * minutes / 60))
    length = params.battle_minutes * 60
    starts = np.sort(rng.random(n_battles) * max(seconds - length, 1.0))
    in_battle = np.zeros(seconds, dtype=np.float64)
    for start in starts.tolist():
        in_battle[int(start):int(start + length)] = 1.0
    return _Timeline(
        seconds=seconds,
        arrivals=arrivals,
        gift_boost=1 + params.burst_gift_boost * kernel + params.battle_gift_boost * in_battle,
        chat_boost=1 + params.burst_chat_boost * kernel,
        battles=starts,
        bursts=n_bursts,
    )


def _poisson_times(rate_per_second: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Event times (seconds, sorted) of a Poisson process with a per-second-bin rate."""
    counts = rng.poisson(rate_per_second)
    bins = np.repeat(np.arange(rate_per_second.shape[0], dtype=np.float64), counts)
    return np.sort(bins + rng.random(bins.shape[0]))


@dataclass(frozen=True, slots=True, eq=False)
class _Audience:
    arrive: FloatArray          # seconds, sorted; viewer i arrives at arrive[i]
    leave: FloatArray           # seconds, per viewer
    leave_sorted: FloatArray

    def present(self, t: FloatArray) -> IntArray:
        return (np.searchsorted(self.arrive, t, side="right")
                - np.searchsorted(self.leave_sorted, t, side="right")).astype(np.int64)

    def pick(self, t: FloatArray, rng: np.random.Generator) -> IntArray:
        """For each time, a random viewer among those who have arrived by then."""
        arrived = np.maximum(np.searchsorted(self.arrive, t, side="right"), 1)
        return (rng.random(t.shape[0]) * arrived).astype(np.int64)


def _audience(params: ModelParams, tl: _Timeline, rng: np.random.Generator) -> _Audience:
    """Viewers arriving with the timeline's rate and staying an exponential time."""
    arrive = _poisson_times(tl.arrivals, rng)
    leave = arrive + rng.exponential(params.watch_minutes * 60, arrive.shape[0])
    return _Audience(arrive, leave, np.sort(leave))


def _gifter_times(params: ModelParams, tl: _Timeline, engagement: float, mood: float,
                  rng: np.random.Generator) -> FloatArray:
    """When each gifter starts: moved by arrivals, bursts, battles, then by other gifters."""
    rate = (tl.arrivals * tl.gift_boost * params.gifter_rate
            * engagement ** params.engagement_elasticity * mood)
    generation = _poisson_times(rate, rng)
    everyone = [generation]
    while generation.size:
        kids = rng.poisson(params.gift_contagion, generation.shape[0])
        parents = np.repeat(generation, kids)
        generation = parents + rng.exponential(params.contagion_minutes * 60, parents.shape[0])
        generation = generation[generation < tl.seconds]
        everyone.append(generation)
    return np.sort(np.concatenate(everyone))


@dataclass(frozen=True, slots=True, eq=False)
class _GiftFrames:
    ts: FloatArray
    user: IntArray
    gift: IntArray
    repeat_count: IntArray
    repeat_end: BoolArray
    group: IntArray
    coins: int
    coins_unconfirmed: int
    units: int
    gift_events: int
    streaks: int
    missing: int
    resent: int
    credited: CreditedGifts


def _items(acts: GiftActs, params: ModelParams) -> tuple[IntArray, IntArray, IntArray, BoolArray]:
    """Split acts into items: one-shot gifts one by one, streaks in chunks of ``max_streak``."""
    cap = int(params.max_streak)
    per_act = np.where(acts.streak, -(-acts.units // cap), acts.units)
    act = np.repeat(np.arange(acts.units.shape[0]), per_act)
    first = np.cumsum(per_act) - per_act
    j = np.arange(act.shape[0]) - first[act]
    steps = np.where(acts.streak[act], np.minimum(cap, acts.units[act] - j * cap), 1)
    return acts.gifter[act], acts.gift[act], steps.astype(np.int64), acts.streak[act]


def _gift_frames(params: ModelParams, acts: GiftActs, starts: FloatArray, users: IntArray,
                 menu: GiftMenu, seconds: int, rng: np.random.Generator) -> _GiftFrames:
    """Every gift frame of the session, and what the counting rules credit for them.

    Each gifter's items run one after another from the gifter's start time: a streak's steps
    ``streak_step_seconds`` apart then its final, a gap, the next item. Items are kept inside the
    session; some finals go missing and some are resent (same group, new message, < 60 s later).
    """
    gifter, gift, steps, streak = _items(acts, params)
    n_items = gifter.shape[0]
    frames_per = np.where(streak, steps, 1)
    item_of_frame = np.repeat(np.arange(n_items), frames_per)
    first_frame = np.cumsum(frames_per) - frames_per
    step_no = np.arange(item_of_frame.shape[0]) - first_frame[item_of_frame]
    gaps = rng.exponential(params.streak_step_seconds, item_of_frame.shape[0])
    gaps[step_no == 0] = 0.0
    within = np.cumsum(gaps)
    within -= within[first_frame][item_of_frame]
    final_delay = np.where(streak, params.final_delay_seconds + rng.uniform(-0.5, 0.5, n_items),
                           0.0)
    duration = np.bincount(item_of_frame, weights=gaps, minlength=n_items) + final_delay
    advance = duration + rng.exponential(params.gift_gap_seconds, n_items)
    before = np.cumsum(advance) - advance
    first_item = np.searchsorted(gifter, gifter, side="left")
    start = starts[gifter] + before - before[first_item]
    start = np.maximum(np.minimum(start, seconds - duration - 1.0), 0.0)
    frame_ts = start[item_of_frame] + within
    last = frame_ts[first_frame + frames_per - 1]
    missing = streak & (rng.random(n_items) < params.missing_final_rate)
    resent = streak & ~missing & (rng.random(n_items) < params.resent_final_rate)
    final_items = np.flatnonzero(streak & ~missing)
    resent_items = np.flatnonzero(resent)
    final_ts = last[final_items] + final_delay[final_items]
    resent_ts = last[resent_items] + final_delay[resent_items] + rng.uniform(1.0, 50.0,
                                                                           resent_items.size)
    item = np.concatenate([item_of_frame, final_items, resent_items])
    one_shot = ~streak[item_of_frame]
    coins = int((steps * menu.coins[gift]).sum())
    return _GiftFrames(
        ts=np.concatenate([frame_ts, final_ts, resent_ts]),
        user=users[gifter[item]],
        gift=gift[item],
        repeat_count=np.concatenate([step_no + 1, steps[final_items], steps[resent_items]]),
        repeat_end=np.concatenate([one_shot, np.ones(final_items.size + resent_items.size,
                                                     dtype=np.bool_)]),
        group=item.astype(np.int64),
        coins=coins,
        coins_unconfirmed=int((steps[missing] * menu.coins[gift[missing]]).sum()),
        units=int(steps.sum()),
        gift_events=n_items,
        streaks=int(streak.sum()),
        missing=int(missing.sum()),
        resent=int(resent.sum()),
        credited=CreditedGifts(users[gifter], gift, steps),
    )


def _thin(params: ModelParams, present: IntArray) -> FloatArray:
    """Share of likes and joins TikTok reports at this concurrency."""
    return 1.0 / (1.0 + present / params.thinning_viewers)


def _session_viewers(params: ModelParams, followers: int, viewers: float | None,
                     rng: np.random.Generator) -> float:
    session = float(rng.lognormal(0.0, params.session_viewers_sigma))
    if viewers is not None:
        return viewers * session
    creator = float(rng.lognormal(0.0, params.creator_viewers_sigma))
    return median_viewers(params, followers) * creator * session


#: The largest session it simulates, in expected viewer-minutes × engagement (typical concurrent
#: viewers before the random draws × minutes × max(engagement, 1)): about 500,000 unique viewers and
#: some ten seconds. A draw beyond DRAW_HEADROOM times that is refused too (memory and time stay
#: bounded whatever the seed).
MAX_VIEWER_MINUTES = 2_000_000
DRAW_HEADROOM = 5.0


def _check(params: ModelParams, followers: int, viewers: float | None, minutes: float,
           engagement: float, start_ts: int) -> None:
    if not 0 <= followers <= MAX_FOLLOWERS:
        raise out_of_range("followers", followers, 0, MAX_FOLLOWERS)
    if viewers is not None and not (math.isfinite(viewers) and 0 <= viewers <= MAX_VIEWERS):
        raise out_of_range("viewers", viewers, 0, MAX_VIEWERS)
    # Unlike an estimate's (at least a minute), a simulated session may be any length above 0.
    if not (math.isfinite(minutes) and 0 < minutes <= MAX_MINUTES):
        raise out_of_range("minutes", minutes, 0, MAX_MINUTES, above_low=True)
    if not (math.isfinite(engagement) and 0 < engagement <= MAX_ENGAGEMENT):
        raise out_of_range("engagement", engagement, 0, MAX_ENGAGEMENT, above_low=True)
    last_ts = MAX_TS - (MAX_MINUTES + 60) * 60_000  # the session, streak finals and resends
    if not 0 <= start_ts <= last_ts:
        raise UsageError(f"start time must lie between 0 and {last_ts:,} ms, got {start_ts:,}")
    base = viewers if viewers is not None else median_viewers(params, followers)
    size = base * minutes * max(engagement, 1.0)
    if size > MAX_VIEWER_MINUTES:
        raise UsageError(
            f"a session of ~{base:,.0f} viewers × {minutes:g} minutes × engagement "
            f"{engagement:g} is too large to simulate (at most {MAX_VIEWER_MINUTES:,} "
            "viewer-minutes): lower followers, viewers, minutes or engagement"
        )


def _check_draw(typical: float, minutes: float, engagement: float) -> None:
    size = typical * minutes * max(engagement, 1.0)
    if size > DRAW_HEADROOM * MAX_VIEWER_MINUTES:
        raise UsageError(
            f"this draw gives ~{typical:,.0f} typical viewers for {minutes:g} minutes, too "
            f"large to simulate (at most {DRAW_HEADROOM * MAX_VIEWER_MINUTES:,.0f} "
            "viewer-minutes): try another seed or a smaller session"
        )


def simulate(
    params: ModelParams,
    *,
    followers: int,
    viewers: float | None = None,
    minutes: float = 60.0,
    engagement: float = 1.0,
    rng: np.random.Generator,
    room_id: str = "sim-room",
    start_ts: int = 1_700_000_000_000,
    host: str = "sim_creator",
    menu: GiftMenu | None = None,
    user_base: int | None = None,
) -> SimulatedSession:
    """Simulate one LIVE session; see the module docstring. ``viewers`` overrides followers.
    ``user_base`` (the creator's id is one less; viewers' ids follow) is drawn when not given:
    the sessions of one creator's history share it."""
    _check(params, followers, viewers, minutes, engagement, int(start_ts))
    menu = menu or GiftMenu.from_catalogue()
    drawn = int(rng.integers(10**17, 9 * 10**17))
    user_base = drawn if user_base is None else user_base
    group_base = int(start_ts) * 1000
    typical = _session_viewers(params, followers, viewers, rng)
    _check_draw(typical, minutes, engagement)
    tl = _timeline(params, typical, minutes, rng)
    aud = _audience(params, tl, rng)
    mood = float(rng.gamma(params.mood_shape, 1 / params.mood_shape))
    starts = _gifter_times(params, tl, engagement, mood, rng)
    gifters = aud.pick(starts, rng) if aud.arrive.size else np.zeros(0, dtype=np.int64)
    starts = starts[: gifters.shape[0]]
    spend = spend_table(params, typical).draw(rng, starts.shape[0])  # the room's own tail
    acts = gift_acts(spend, menu, params, rng)
    gifts = _gift_frames(params, acts, starts, gifters, menu, tl.seconds, rng)
    return _assemble(params, menu, tl, aud, gifts, engagement, rng,
                     room_id=room_id, start_ts=int(start_ts), host=host, followers=followers,
                     user_base=user_base, group_base=group_base, typical=typical,
                     minutes=minutes, unique_gifters=int(np.unique(gifters).size))


def _engagement_tables(params: ModelParams, tl: _Timeline, aud: _Audience, engagement: float,
                       rng: np.random.Generator) -> dict[int, tuple[FloatArray, dict[str,
                                                                              IntArray]]]:
    """Viewers, joins, comments, likes, follows and shares: (seconds, columns) per kind."""
    sec = np.arange(tl.seconds, dtype=np.float64)
    present = aud.present(sec + 0.5)
    thin = _thin(params, present)
    per_sec = present / 60 * engagement
    comments = _poisson_times(per_sec * params.comments_per_viewer_minute * tl.chat_boost, rng)
    likes = _poisson_times(per_sec * params.like_events_per_viewer_minute * thin, rng)
    like_count = 1 + np.asarray(rng.poisson(max(params.likes_per_event - 1, 0.0),
                                            size=likes.shape[0]), dtype=np.int64)
    texts = np.asarray(rng.integers(0, len(PHRASES), size=comments.shape[0]), dtype=np.int64)
    joined = rng.random(aud.arrive.shape[0]) < _thin(params, aud.present(aud.arrive))
    n = aud.arrive.shape[0]
    follows = np.flatnonzero(rng.random(n) < min(params.follow_rate * engagement, 1.0))
    shares = np.flatnonzero(rng.random(n) < min(params.share_rate * engagement, 1.0))
    stay = aud.leave - aud.arrive
    follow_ts = aud.arrive[follows] + rng.random(follows.size) * stay[follows]
    share_ts = aud.arrive[shares] + rng.random(shares.size) * stay[shares]
    step = params.viewers_update_seconds
    ticks = np.arange(step, tl.seconds + 1e-9, step) if step > 0 else np.zeros(0)
    return {
        VIEWERS: (ticks, {"current": aud.present(ticks),
                          "total": np.asarray(np.searchsorted(aud.arrive, ticks, side="right"),
                                              dtype=np.int64)}),
        JOIN: (aud.arrive[joined], {"user": np.flatnonzero(joined).astype(np.int64)}),
        COMMENT: (comments, {"user": aud.pick(comments, rng), "text": texts}),
        LIKE: (likes, {"user": aud.pick(likes, rng), "count": like_count,
                       "total": np.cumsum(like_count).astype(np.int64)}),
        FOLLOW: (follow_ts[follow_ts < tl.seconds], {"user": follows[follow_ts < tl.seconds]
                                                     .astype(np.int64)}),
        SHARE: (share_ts[share_ts < tl.seconds], {"user": shares[share_ts < tl.seconds]
                                                  .astype(np.int64)}),
    }


def _assemble(params: ModelParams, menu: GiftMenu, tl: _Timeline, aud: _Audience,
              gifts: _GiftFrames, engagement: float, rng: np.random.Generator, *,
              room_id: str, start_ts: int, host: str, followers: int, user_base: int,
              group_base: int, typical: float, minutes: float,
              unique_gifters: int) -> SimulatedSession:
    """Merge every kind into one stream sorted by time and compute the truth."""
    tables = _engagement_tables(params, tl, aud, engagement, rng)
    n_battles = tl.battles.shape[0]
    tables[BATTLE] = (
        np.concatenate([tl.battles, tl.battles + params.battle_minutes * 60]),
        {"battle": np.tile(np.arange(n_battles, dtype=np.int64), 2),
         "phase": np.repeat(np.array([0, 1], dtype=np.int64), n_battles)},
    )
    tables[GIFT] = (gifts.ts, {"user": gifts.user, "gift": gifts.gift,
                               "repeat_count": gifts.repeat_count,
                               "repeat_end": gifts.repeat_end.astype(np.int64),
                               "group": gifts.group})
    body_kinds = sorted(tables)
    body_ts = [start_ts + to_ms(tables[k][0]) for k in body_kinds]
    last = max([int(t.max()) for t in body_ts if t.size] + [start_ts + int(tl.seconds * 1000)])
    ts = np.concatenate([[start_ts], *body_ts, [last + 1]]).astype(np.int64)
    kind = np.concatenate([[LIVE_START], *[np.full(t.size, k) for k, t in
                                           zip(body_kinds, body_ts, strict=True)],
                           [LIVE_END]]).astype(np.int8)
    ref = np.concatenate([[0], *[np.arange(t.size) for t in body_ts], [0]]).astype(np.int64)
    order = np.argsort(ts, kind="stable")
    viewers_now = tables[VIEWERS][1]["current"]
    truth = Truth(
        room_id=room_id, followers=followers, minutes=minutes, typical_viewers=typical,
        coins=gifts.coins, coins_confirmed=gifts.coins - gifts.coins_unconfirmed,
        coins_unconfirmed=gifts.coins_unconfirmed, gifts=gifts.units,
        gift_events=gifts.gift_events, streaks=gifts.streaks, missing_finals=gifts.missing,
        resent_finals=gifts.resent, unique_gifters=unique_gifters,
        unique_viewers=int(aud.arrive.shape[0]),
        viewers_peak=int(viewers_now.max()) if viewers_now.size else 0,
        viewers_mean=float(viewers_now.mean()) if viewers_now.size else 0.0,
        comments=int(tables[COMMENT][0].shape[0]),
        likes=int(tables[LIKE][1]["count"].sum()),
        joins=int(tables[JOIN][0].shape[0]), follows=int(tables[FOLLOW][0].shape[0]),
        shares=int(tables[SHARE][0].shape[0]), battles=n_battles, chat_bursts=tl.bursts,
        events=int(ts.shape[0]),
    )
    return SimulatedSession(
        room_id=room_id, host=host, host_id=str(user_base - 1), followers=followers,
        user_base=user_base, group_base=group_base, menu=menu, ts=ts[order],
        kind=kind[order], ref=ref[order],
        tables={k: Columns(tables[k][1]) for k in body_kinds}, truth=truth,
        credited=gifts.credited,
    )


def simulate_session(
    params: ModelParams,
    *,
    followers: int,
    viewers: float | None = None,
    minutes: float = 60.0,
    engagement: float = 1.0,
    rng: np.random.Generator,
    room_id: str = "sim-room",
    start_ts: int = 1_700_000_000_000,
) -> tuple[Iterator[Event], Truth]:
    """Simulate one session: its events (in stream order) and its ground truth."""
    session = simulate(params, followers=followers, viewers=viewers, minutes=minutes,
                       engagement=engagement, rng=rng, room_id=room_id, start_ts=start_ts)
    return session.events(), session.truth
