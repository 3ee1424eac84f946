"""Response models of a LIVE's subscriptions in the session report's JSON twin
(``/api/sessions/{room_id}`` → ``subscriptions``; ``liveworth.economy.subscriptions``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

Usd = str  # a decimal string of US dollars, as in liveworth.web.models


class SubscriptionRuleOut(BaseModel):
    """The rate card's subscription share rule in force (its source, date and grade)."""

    regions: list[str]
    from_: str = Field(alias="from", description="the date the rule holds from")
    share: str
    bonus: str = Field(description="the most the eligibility bonus adds")
    source: str
    date: str
    confidence: str


class SubscriptionsOut(BaseModel):
    """A LIVE's subscriptions apart from its gifts (liveworth.economy.subscriptions)."""

    count: int
    estimated: bool = Field(description="some were priced at the rate card's price: TikTok's "
                            "message carries none")
    estimated_count: int
    viewer_usd: Usd = Field(description="what viewers paid for the subscriptions")
    store_usd: Usd = Field(description="the app stores' fee")
    tiktok_usd: Usd = Field(description="what TikTok kept")
    creator_usd: Usd = Field(description="what the creator receives")
    card_price_usd: Usd
    region: str
    date: str
    creator_share: str
    store_fee: str
    bonus_eligible: bool
    rule: SubscriptionRuleOut
    note: str
    gifts_creator_usd: Usd = Field(description="the report's total_creator_usd (gifts)")
    total_creator_usd: Usd = Field(description="gifts_creator_usd + creator_usd")
