"""What a ``WebcastLinkMicBattle`` message says about a battle, as the extra fields of a ``battle``
event (the schema below is merged into :mod:`liveworth.decode.webcast`'s).

Seen in the real dumps (``tests/data/real/webcast_dumps``, 2023-10, ten battle messages from ten
rooms; ``WebcastLinkMicArmies`` score updates carry only the battle id here):

- ``action`` (field 4): 4 = the battle opened, 5 = it finished (TikTok's ``BattleAction``; 6 cuts
  it short, 1-3 and 7-11 are invitations, refusals and leaving the link). Read as ``phase``:
  ``start`` for 4, ``end`` for 5 and 6; other actions keep only their number (``action``).
- ``battle_setting`` (field 3): ``start_time_ms`` (when the battle began, on TikTok's clock) and
  ``duration`` (the planned length in seconds; 301 in every real message), ``battle_type``
  (1 = one against one, 2 = a team battle). Kept as ``start_ms``, ``duration_s`` and ``kind``.
- ``anchor_info`` (field 10, a map from user id): every host in the battle, the room's own among
  them: ``user_id``, ``display_id`` (the @unique id) and ``nick_name``. Kept as ``anchors``
  (``user_id``, ``user``, ``nickname``).
- ``battle_result`` (field 5, a map from user id; only in finishing messages): ``result``
  (0 = win, 1 = lose, 2 = draw) and ``score``. Kept as ``results`` (``user_id``, ``result`` as
  ``win``/``lose``/``draw``, ``score``). TikTok's schema is proto3, which leaves 0 off the wire:
  a result entry without a ``result`` is a win (inferred from the schema; every real finishing
  message has exactly one such entry per one-against-one battle, against one ``lose``).

Nothing else is read. Strings that are not UTF-8 are repaired as everywhere in decoding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple


class Field(NamedTuple):
    """One field: (name, number, type, repeated), as :mod:`liveworth.decode.webcast` reads it."""

    name: str
    number: int
    type: str
    repeated: bool = False


#: The battle message's schema (proto2, so ``HasField`` tells an absent result from a 0).
BATTLE_SCHEMA: Final[Mapping[str, Sequence[Field]]] = {
    "BattleSetting": (Field("startTimeMs", 2, "int64"), Field("duration", 3, "int64"),
                      Field("battleType", 8, "int64")),
    "BattleResult": (Field("userId", 1, "int64"), Field("result", 2, "int64"),
                     Field("score", 3, "int64")),
    "BattleResultEntry": (Field("key", 1, "int64"), Field("value", 2, "BattleResult")),
    "BattleBaseUser": (Field("userId", 1, "int64"), Field("nickName", 2, "string"),
                       Field("displayId", 4, "string")),
    "BattleUserInfo": (Field("user", 1, "BattleBaseUser"),),
    "BattleUserInfoEntry": (Field("key", 1, "int64"), Field("value", 2, "BattleUserInfo")),
    "WebcastLinkMicBattle": (
        Field("common", 1, "Common"), Field("id", 2, "int64"),
        Field("setting", 3, "BattleSetting"), Field("action", 4, "int64"),
        Field("results", 5, "BattleResultEntry", repeated=True),
        Field("anchors", 10, "BattleUserInfoEntry", repeated=True)),
}
#: ``BattleAction`` values that start and end a battle.
PHASES: Final[Mapping[int, str]] = {4: "start", 5: "end", 6: "end"}
RESULTS: Final[Mapping[int, str]] = {0: "win", 1: "lose", 2: "draw"}
KINDS: Final[Mapping[int, str]] = {1: "normal", 2: "team"}


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def battle_extra(m: Any) -> dict[str, Any]:
    """The extra fields of the ``battle`` event of one parsed ``WebcastLinkMicBattle``."""
    out: dict[str, Any] = {}
    action = int(m.action)
    if action:
        out["action"] = action
    if action in PHASES:
        out["phase"] = PHASES[action]
    if m.HasField("setting"):
        s = m.setting
        if int(s.startTimeMs) > 0:
            out["start_ms"] = int(s.startTimeMs)
        if int(s.duration) > 0:
            out["duration_s"] = int(s.duration)
        if int(s.battleType) in KINDS:
            out["kind"] = KINDS[int(s.battleType)]
    anchors = [{"user_id": str(int(e.value.user.userId) or int(e.key)),
                "user": _text(e.value.user.displayId), "nickname": _text(e.value.user.nickName)}
               for e in m.anchors]
    if anchors:
        out["anchors"] = sorted(anchors, key=lambda a: a["user_id"])
    results = [{"user_id": str(int(e.value.userId) or int(e.key)),
                "result": RESULTS.get(int(e.value.result) if e.value.HasField("result") else 0,
                                      "unknown"),
                "score": int(e.value.score)} for e in m.results]
    if results:
        out["results"] = sorted(results, key=lambda r: r["user_id"])
    return out
