"""liveworth — how much money do you make on TikTok LIVE, and how do you make more?"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
