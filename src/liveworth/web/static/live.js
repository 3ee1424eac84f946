// liveworth: keeps the live page and the overlay up to date from the server's event stream.
// Data arrives as JSON and goes into the page only as text (textContent), never as HTML.
(function () {
  "use strict";

  var root = document.querySelector("[data-live]");
  if (!root || !window.EventSource) {
    return;
  }
  var token = new URLSearchParams(window.location.search).get("token");

  function withToken(url) {
    var u = new URL(url, window.location.href);
    if (token) {
      u.searchParams.set("token", token);
    }
    return u.toString();
  }

  function setText(name, text) {
    root.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) {
      if (el.textContent !== text) {
        el.textContent = text;
      }
    });
  }

  function span(cls, text) {
    var el = document.createElement("span");
    el.className = cls;
    el.textContent = text;
    return el;
  }

  function coins(n) {
    return Number(n).toLocaleString("en-US");
  }

  function fillList(name, items, parts) {
    root.querySelectorAll('[data-list="' + name + '"]').forEach(function (list) {
      var fresh = document.createDocumentFragment();
      items.forEach(function (item) {
        var li = document.createElement("li");
        parts(item).forEach(function (part, i) {
          if (i > 0) {
            li.appendChild(document.createTextNode(" "));
          }
          li.appendChild(part);
        });
        fresh.appendChild(li);
      });
      list.replaceChildren(fresh);
    });
  }

  function goal(state) {
    var fill = root.querySelector("[data-goal-fill]");
    var target = Number(root.dataset.goal || "0");
    if (!fill || !(target > 0)) {
      return;
    }
    var value = root.dataset.goalUnit === "usd" ? Number(state.creator_usd) : Number(state.coins);
    var pct = Math.max(0, Math.min(100, (value / target) * 100));
    fill.style.width = pct.toFixed(2) + "%";
    setText("goal_pct", Math.floor(pct) + " %");
  }

  // The overlay's ?alerts=1: the newest alert, shown for a few seconds when it is new.
  var shownAlert = null;
  var toastTimer = null;
  function toast(alerts) {
    var box = root.querySelector("[data-alert-toast]");
    if (!box) {
      return;
    }
    var a = alerts.length ? alerts[0] : null;
    var id = a ? a.room_id + "\u0000" + a.rule + "\u0000" + a.key : "";
    if (shownAlert === null || id === shownAlert) {
      shownAlert = id; // what was there when the overlay opened is not news
      return;
    }
    shownAlert = id;
    if (!a) {
      return;
    }
    box.textContent = a.text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () {
      box.hidden = true;
    }, Number(root.dataset.alertS || "8") * 1000);
  }

  function render(state) {
    var d = state.display;
    ["coins", "creator_usd", "viewer_usd", "viewers", "peak_viewers", "gifters", "status",
     "missions", "reward_rate"].forEach(
      function (name) {
        setText(name, d[name]);
      }
    );
    setText("room_id", state.room_id || "-");
    root.querySelectorAll('[data-field="status"]').forEach(function (el) {
      el.className = "status status-" + state.status;
    });
    fillList("top_gifters", state.top_gifters, function (g) {
      return [span("who", g.name), span("amount", g.coins_display)];
    });
    fillList("recent_gifts", state.recent_gifts, function (g) {
      return [span("who", g.name), span("what", g.gift_name + " \u00d7" + g.repeat_count),
              span("amount", coins(g.coins))];
    });
    fillList("alerts", state.alerts || [], function (a) {
      return [span("rule", a.rule), span("what", a.text)];
    });
    toast(state.alerts || []);
    goal(state);
    root.dataset.updated = String(Date.now());
  }

  goal({ coins: root.dataset.coins || "0", creator_usd: root.dataset.creatorUsd || "0" });

  var source = new EventSource(withToken(root.dataset.eventsUrl));
  source.addEventListener("state", function (ev) {
    render(JSON.parse(ev.data));
  });
  source.addEventListener("open", function () {
    setText("connection", "");
  });
  source.addEventListener("error", function () {
    setText("connection", "reconnecting\u2026");
  });
})();
