"""Webhook delivery: each alert POSTed as JSON to its rule's URLs, off the recorder's threads.

- One worker thread per URL, each with its own bounded queue: a webhook that hangs or fails
  delays only its own later deliveries, never the store (the writer only appends to a queue)
  nor another URL.
- Each POST has a timeout; a connection failure, a timeout, a 429 or a 5xx answer is retried
  with exponential backoff (a 429's ``Retry-After`` is honoured, within bounds); any other 4xx is
  final. A queue that is full drops its oldest alert (counted).
- A failure is told once per rule (the first), never per alert, and only by the URL's scheme and
  host: Discord and Telegram keep their secret in the path.

The bodies (:func:`body`): ``json`` is the alert itself (``kind``, ``rule``, ``room_id``,
``host``, ``ts``, ``time``, ``text``, ``user_id``, ``who``, ``detail``); ``discord`` is a Discord
webhook message (``content``; mentions disabled, so a viewer's ``@everyone`` pings nobody);
``telegram`` is a Bot API ``sendMessage`` body (``chat_id``, ``text``).
"""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from liveworth import __version__
from liveworth.alerts.engine import Alert
from liveworth.alerts.rules import Rule, Webhook

TIMEOUT_S = 5.0
RETRIES = 4  # attempts after the first
BACKOFF_S = 1.0
MAX_RETRY_AFTER_S = 60.0
QUEUE_MAX = 1000
DISCORD_MAX = 2000
TELEGRAM_MAX = 4096

#: Sends one request: (url, body bytes, timeout) → HTTP status; raises OSError when no answer.
Post = Callable[[str, bytes, float], int]


def body(alert: Alert, hook: Webhook) -> dict[str, Any]:
    """The JSON body for ``hook``'s kind."""
    when = datetime.fromtimestamp(alert.ts / 1000, UTC).isoformat(timespec="milliseconds")
    if hook.kind == "discord":
        text = f"[@{alert.host}] {alert.text}" if alert.host else alert.text
        return {"content": text[:DISCORD_MAX], "allowed_mentions": {"parse": []}}
    if hook.kind == "telegram":
        text = f"[@{alert.host}] {alert.text}" if alert.host else alert.text
        return {"chat_id": hook.chat_id, "text": text[:TELEGRAM_MAX],
                "disable_web_page_preview": True}
    return {**alert.as_dict(), "time": when.replace("+00:00", "Z")}


class _Retry(Exception):
    def __init__(self, why: str, after_s: float | None = None) -> None:
        super().__init__(why)
        self.after_s = after_s


def http_post(url: str, data: bytes, timeout_s: float) -> int:
    """POST ``data`` as JSON; the status (an error status is returned, not raised)."""
    req = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": f"liveworth/{__version__}"})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            resp.read(65536)
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        retry = exc.headers.get("Retry-After") if exc.headers else None
        exc.close()
        if exc.code == 429 and retry:
            raise _Retry("HTTP 429", _seconds(retry)) from None
        return int(exc.code)


def _seconds(text: str) -> float | None:
    try:
        return min(max(float(text), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        return None


@dataclass
class _Job:
    alert: Alert
    rule: str
    hook: Webhook


@dataclass
class DeliveryStats:
    delivered: int = 0
    failed: int = 0
    dropped: int = 0
    told: set[str] = field(default_factory=set)  # rules whose failure was told


class Delivery:
    """Delivers alerts to their rules' webhooks. ``log`` gets one line per failing rule."""

    def __init__(self, rules: tuple[Rule, ...], *, log: Callable[[str], None] | None = None,
                 post: Post = http_post, timeout_s: float = TIMEOUT_S,
                 backoff_s: float = BACKOFF_S, retries: int = RETRIES) -> None:
        self.hooks = {r.name: r.webhooks for r in rules}
        self.log = log
        self.post = post
        self.timeout_s = timeout_s
        self.backoff_s = backoff_s
        self.retries = retries
        self.stats = DeliveryStats()
        self._lock = threading.Lock()
        self._queues: dict[str, queue.Queue[_Job | None]] = {}
        self._threads: list[threading.Thread] = []
        self._closing = threading.Event()

    def __call__(self, alert: Alert) -> None:
        """Queue ``alert`` for each webhook of its rule (never waits)."""
        for hook in self.hooks.get(alert.rule, ()):
            q = self._queue(hook.url)
            job = _Job(alert, alert.rule, hook)
            while True:
                try:
                    q.put_nowait(job)
                    break
                except queue.Full:
                    try:
                        q.get_nowait()
                        with self._lock:
                            self.stats.dropped += 1
                    except queue.Empty:
                        pass

    def _queue(self, url: str) -> queue.Queue[_Job | None]:
        with self._lock:
            q = self._queues.get(url)
            if q is None:
                q = self._queues[url] = queue.Queue(QUEUE_MAX)
                t = threading.Thread(target=self._work, args=(q,), daemon=True,
                                     name="liveworth-webhook")
                self._threads.append(t)
                t.start()
            return q

    def _work(self, q: queue.Queue[_Job | None]) -> None:
        while True:
            job = q.get()
            try:
                if job is None:
                    return
                self._deliver(job)
            finally:
                q.task_done()

    def _deliver(self, job: _Job) -> None:
        data = json.dumps(body(job.alert, job.hook), ensure_ascii=False).encode("utf-8")
        why = ""
        for attempt in range(self.retries + 1):
            wait = self.backoff_s * (2 ** attempt)
            try:
                status = self.post(job.hook.url, data, self.timeout_s)
                if 200 <= status < 300:
                    with self._lock:
                        self.stats.delivered += 1
                    return
                why = f"HTTP {status}"
                if status < 500 and status != 429:
                    break  # the receiver refuses it: sending it again would not help
            except _Retry as exc:
                why = str(exc)
                wait = exc.after_s if exc.after_s is not None else wait
            except (OSError, ValueError) as exc:  # no answer: refused, reset, timed out
                why = _reason(exc)
            if attempt < self.retries and self._closing.wait(wait):
                break  # closing: no more waiting
        self._failed(job, why)

    def _failed(self, job: _Job, why: str) -> None:
        with self._lock:
            self.stats.failed += 1
            first = job.rule not in self.stats.told
            self.stats.told.add(job.rule)
        if first and self.log is not None:
            self.log(f"alert rule {job.rule!r}: webhook {job.hook.where} failed: {why} "
                     "(further failures of this rule are not shown)")

    def close(self, timeout_s: float = 10.0) -> bool:
        """Deliver what is queued within ``timeout_s`` (retries stop waiting at the deadline);
        True when everything was delivered or given up on in time."""
        deadline = time.monotonic() + timeout_s
        with self._lock:
            queues = list(self._queues.values())
        for q in queues:
            q.put(None)
        ok = True
        for t in list(self._threads):
            t.join(max(0.0, deadline - time.monotonic()) * 0.9)
            if t.is_alive():
                self._closing.set()  # cut the backoff waits short
                t.join(max(0.0, deadline - time.monotonic()))
                ok = ok and not t.is_alive()
        return ok


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return "no answer in time"
    if isinstance(exc, urllib.error.URLError):
        return f"cannot connect ({exc.reason})"
    return f"cannot connect ({exc.__class__.__name__})"
