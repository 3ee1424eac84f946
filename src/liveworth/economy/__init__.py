"""What a coin is worth: exact money (:mod:`.money`), the sourced rate card (:mod:`.ratecard`, its
data in ``data/ratecard.toml``) and TikTok's gift catalogue (:mod:`.gifts`).

The bottom of the pipeline: it imports nothing of liveworth but :mod:`liveworth.errors`.
"""
