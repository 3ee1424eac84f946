"""The web page and API of an analysis show risks in their own section (issue "Answers users
can believe", item 5)."""

from __future__ import annotations

from pathlib import Path

from liveworth.web import create_app
from websupport import STEADY_HOST, TestClient, build_db


def test_web_analysis_shows_risks_apart_from_recommendations(tmp_path: Path) -> None:
    db = build_db(tmp_path / "web.duckdb")
    with TestClient(create_app(db), base_url="http://127.0.0.1") as c:
        a = c.get(f"/api/creators/{STEADY_HOST}/analysis").json()
        page = c.get(f"/creators/{STEADY_HOST}/analysis").text
    assert a["risks"] and a["risks"][0]["name"] == "top_gifter_stops"
    assert isinstance(a["risks"][0]["creator_usd_per_session"], str)
    assert all(r["expected"] is None or r["expected"]["pct"] > 0 for r in a["recommendations"])
    assert "<h2>Risks</h2>" in page and 'data-testid="risk"' in page
    recs = page[page.index("<h2>Recommendations</h2>"):page.index("<h2>Risks</h2>")]
    assert "stopped gifting" not in recs and "If your top gifter stopped gifting" in page
