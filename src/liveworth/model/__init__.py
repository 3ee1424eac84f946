"""The generative model of a LIVE session and what is built on it: the model itself
(:mod:`.generative`), the inputs a creator gives it (:mod:`.inputs`), the simulator
(:mod:`.simulate`), the estimator and planner (:mod:`.estimate`, :mod:`.plan`), the calibration to
a creator's history (:mod:`.history`, :mod:`.calibrate`) and the forecast (:mod:`.forecast`).
"""

from typing import Any


def __getattr__(name: str) -> Any:
    """Deprecated (until 0.3): ``from liveworth.model import ModelParams`` and the rest of the
    model's names; import them from :mod:`liveworth.model.generative` (loaded only when asked)."""
    from liveworth.model import generative

    try:
        return getattr(generative, name)
    except AttributeError:
        raise AttributeError(f"module 'liveworth.model' has no attribute {name!r}") from None
