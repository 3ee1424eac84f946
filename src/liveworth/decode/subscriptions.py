"""What a ``WebcastSubNotifyMessage`` says about a LIVE subscription, as a ``subscribe`` event
(the schema below is merged into :mod:`liveworth.decode.webcast`'s).

Field numbers are those of the public schemas the connectors use (TikTokLive's betterproto
definitions and TikTok-Live-Connector's ``tiktokSchema.proto`` agree on them):

- ``common`` (field 1): the usual envelope (room, message id, time).
- ``user`` (field 2, TikTokLive's ``sender``): the viewer who subscribed: ``id``, ``displayId``
  (the @unique id) and ``nickname``, as in every other message.
- ``subMonth`` (field 4): the subscription's month, 1 for a new subscriber. Kept as ``months``.
  A message without it (0, which proto3 leaves off the wire) counts as month 1 (liveworth's
  choice: every such message the connectors show is a subscription being paid).

The one real message in the dumps (``giftsCollector.json.gz``, 2023-11-13, room of
@asmr_kto; display text "{0:user} subscribed. Subscription goal progress: ...") has
``subMonth`` 1 and the subscriber in field 2, as read here.

The message says nothing of the price or the tier the viewer chose, so a decoded ``subscribe``
has neither (``price_usd``/``tier`` come only from JSONL sources that know them); reports price
it from the rate card and say so (:mod:`liveworth.economy.subscriptions`). ``exhibitionType``
(3), ``subscribeType`` (5), ``oldSubscribeStatus`` (6), ``subscribingStatus`` (8) and TikTokLive's
later fields (``changeType`` 9, ``upgradeCount`` 10, a second ``User`` 11) are not read: no
public source says what their values mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from liveworth.decode.battles import Field

#: The subscription message's schema (the ``User`` and ``Common`` messages are webcast's own).
SUBSCRIPTION_SCHEMA: Final[Mapping[str, Sequence[Field]]] = {
    "WebcastSubNotifyMessage": (
        Field("common", 1, "Common"), Field("user", 2, "User"),
        Field("subMonth", 4, "int64")),
}


def months_of(m: Any) -> int:
    """The subscription month of one parsed ``WebcastSubNotifyMessage`` (1 when absent)."""
    return max(int(m.subMonth), 1)
