// liveworth: the end-of-LIVE credits and the overlay's leaderboard by window. Each refreshes its
// list from its JSON twin; names go into the page only as text (textContent), never as HTML.
(function () {
  "use strict";

  var token = new URLSearchParams(window.location.search).get("token");

  function withToken(url) {
    var u = new URL(url, window.location.href);
    if (token) {
      u.searchParams.set("token", token);
    }
    return u.toString();
  }

  function span(cls, text) {
    var el = document.createElement("span");
    el.className = cls;
    el.textContent = text;
    return el;
  }

  function fill(list, rows) {
    var fresh = document.createDocumentFragment();
    rows.forEach(function (row) {
      var li = document.createElement("li");
      li.appendChild(span("who", row[0]));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(span("amount", row[1]));
      fresh.appendChild(li);
    });
    list.replaceChildren(fresh);
  }

  function follow(root, url, rowsOf) {
    var list = root.querySelector("[data-list]");
    var every = Math.max(1, Number(root.dataset.refreshS || "10")) * 1000;
    function refresh() {
      fetch(withToken(url), { headers: { accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && list) {
            fill(list, rowsOf(data));
            root.dataset.updated = String(Date.now());
          }
        })
        .catch(function () { /* the next refresh tries again */ });
    }
    refresh();
    window.setInterval(refresh, every);
  }

  var credits = document.querySelector("[data-credits]");
  if (credits) {
    var roll = credits.querySelector("[data-roll]");
    if (roll) {
      roll.style.animationDuration = Number(credits.dataset.seconds || "60") + "s";
    }
    follow(credits, credits.dataset.jsonUrl, function (data) {
      return data.gifters.map(function (g) { return [g.name, g.coins_display]; });
    });
  }
  var board = document.querySelector("[data-board]");
  if (board) {
    follow(board, board.dataset.boardUrl, function (rows) {
      return rows.map(function (g) {
        return [g.nickname || g.user || g.user_id || "?", Number(g.coins).toLocaleString("en-US")];
      });
    });
  }
})();
