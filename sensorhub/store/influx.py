"""Ship outbox batches to InfluxDB's v1 ``/write`` endpoint, safely under faults.

The v1 endpoint is accepted by InfluxDB 1.x, 2.x (compatibility API; a bucket is mapped to
a database automatically from 2.5 on) and 3.x. The policy (docs/reliability.md):

- **At least once, idempotently.** A batch leaves the outbox only after a 2xx; a crash in
  between resends it, which writes the same points again (same series and timestamp).
- **Order per series.** A batch is never sent while an older queued batch of its series
  (:mod:`sensorhub.store.outbox`) waits, so an older value can never overwrite a newer one.
- **Answers.** 2xx: delete. 413: split in halves and send those, recursively down to one
  line; a single line still too large is parked. Other 4xx (400, 404, 422 …): the batch
  waits ``backoff(attempts)`` and after ``MAX_ATTEMPTS`` refusals is parked; the flush goes
  on with other series. 401/403: stop at once (nothing else can succeed). 429/503: stop;
  nobody in any process sends before ``Retry-After`` (seconds or an HTTP date, capped at
  ``MAX_RETRY_AFTER_S``) or, without it, ``backoff(failures)``. Other 5xx and timeouts: stop,
  ``backoff(failures)``. Connection refused: stop (no backoff: a refused connect costs the
  server nothing, and shipping resumes the moment it is back).
- **backoff(n)** = 1, 2, 4 … s after the nth consecutive failure, at most ``MAX_BACKOFF_S``.
- **Deadlines.** ``timeout_s`` bounds each request in total (connect, send, wait, read),
  not each socket read; ``flush(deadline_s=...)`` bounds the whole flush.
- **Joined requests** (``coalesce_points``, set by :class:`sensorhub.delivery.Delivery`):
  consecutive queued batches that are due and were never refused go in one ``/write`` of at
  most that many points, their lines in id order, and are acknowledged in one commit. A
  ``#influxql`` batch ends a join (it goes to /query in its turn); a refused join is sent
  again batch by batch, so the policy above still applies to each batch.
- **One shipper.** A lease in the journal (``leases`` table) lets one process ship at a
  time; another one's flush returns ``skipped`` at once.
- **Several relays on PostgreSQL.** There a flush claims the heads of series
  (:meth:`Outbox.claim`, ``FOR UPDATE SKIP LOCKED``) instead of taking the lease, so
  several ``sensorhub flush`` processes ship at once, each series by one relay at a time,
  oldest batch first (resending parked batches still takes the lease).

Credentials never appear in errors or in the outbox (:mod:`sensorhub.store.redact`);
credentials written in the URL are moved to the ``Authorization`` header.
"""

from __future__ import annotations

import contextlib
import email.utils
import gzip
import hashlib
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import httpcore
import httpx

from ..config import InfluxConfig
from ..faultpoints import checkpoint
from .journal import Journal
from .lineprotocol import INFLUXQL_MARK, PRECISION
from .outbox import (
    GZIP,
    IDENTITY,
    KEPT,
    PARKED,
    QUEUED,
    Backoff,
    Outbox,
    Slot,
    new_holder,
    pack,
    unpack,
)
from .redact import redact, redact_url

MAX_ATTEMPTS = 5  # refusals (4xx other than 401/403/413/429) before a batch is parked
MAX_BACKOFF_S = 60.0
MAX_RETRY_AFTER_S = 3600.0
LEASE_MIN_S = 30.0
CLAIM_SERIES = 8  # series heads per PostgreSQL claim
CLAIM_DEPTH = 4  # batches of one series per claim (sent in order while the head is locked)


def backoff_s(n: int) -> float:
    """Wait after the ``n``th consecutive failure: 1, 2, 4 … seconds, at most 60."""
    return min(MAX_BACKOFF_S, 2.0 ** (max(n, 1) - 1))


@dataclass
class FlushReport:
    sent_batches: int = 0
    sent_points: int = 0
    failed_batches: int = 0
    left_batches: int = 0
    errors: list[str] = field(default_factory=list)
    parked_batches: int = 0  # in the outbox after this flush (retry with ``parked=True``)
    skipped: bool = False  # another process holds the shipping lease
    retry_at: float | None = None  # Unix time before which nothing is sent (server backoff)
    deadline_reached: bool = False
    requests: int = 0
    acked_ids: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing is waiting (or another process is shipping it)."""
        return self.skipped or self.left_batches == 0


@dataclass
class _Answer:
    kind: str  # ok | too_large | reject | auth | busy | server | timeout | deadline | down
    status: int | None
    error: str
    retry_after: float | None = None  # absolute Unix time


STOPPING = {"auth", "busy", "server", "timeout", "deadline", "down"}
BACKING_OFF = {"auth", "busy", "server", "timeout"}


class InfluxWriter:
    """A small client for ``/write`` and ``/query`` (the latter for setup and tests).

    ``clock`` (Unix seconds) schedules retries; request deadlines use ``time.monotonic``.
    ``send_gzip``: post gzip bodies of the outbox as they are stored (``Content-Encoding:
    gzip``). Off by default: on loopback influxd 1.6 took plain text faster (gunzip costs it
    more than the bytes saved; benchmarks/season.py measures both), and decompressing here
    costs ~3 ms a 5000-point batch. Turn on for a remote InfluxDB behind a slow link.
    """

    send_gzip: bool = False
    # queued batches joined into one request up to this many points (0: one a request;
    # :class:`sensorhub.delivery.Delivery` sets the batch size). InfluxDB 1.x syncs its WAL
    # once a request: a season's 250 one-point ``session`` batches took it 4.4 of 48.7 s.
    coalesce_points: int = 0

    def __init__(
        self,
        cfg: InfluxConfig,
        client: httpx.Client | None = None,
        clock: Any = time.time,
    ) -> None:
        self.cfg = cfg
        self.clock = clock
        self.base_url, self._extra_params, creds = split_credentials(cfg.url)
        self.token = cfg.token or creds.get("token", "")
        self.username = cfg.username or creds.get("username", "")
        self.password = cfg.password or creds.get("password", "")
        self.secrets = [self.token, self.password, creds.get("password"), creds.get("token")]
        headers = {"Authorization": f"Token {self.token}"} if self.token else {}
        auth = (self.username, self.password) if self.username and not self.token else None
        self._deadline = _Deadline()
        self.client = client or httpx.Client(
            base_url=self.base_url,
            headers=headers,
            auth=auth,
            timeout=cfg.timeout_s,
            transport=DeadlineTransport(self._deadline, max(4, cfg.connections + 2)),
            trust_env=False,  # a proxy from the environment would bypass the deadlines
        )
        self.target = f"{redact_url(self.base_url)} db={cfg.database}"
        self._fingerprint = hashlib.sha256(
            f"{self.token}\0{self.username}\0{self.password}".encode()
        ).hexdigest()[:12]
        self._holder = new_holder()
        self._created_db = False
        self._backoff_row = False
        # HTTP connections posting at once (``_flush_parallel``); 1: the sequential flush
        self.connections = cfg.connections
        self._warm = False  # the server took a request since the start or the last stop
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.client.close()

    # -- requests ------------------------------------------------------------------------
    def write(
        self, body: str | bytes, deadline: float | None = None, encoding: str = IDENTITY
    ) -> httpx.Response:
        """POST line protocol (text, or bytes in ``encoding``: identity or gzip, sent with
        ``Content-Encoding``); ``deadline`` (``time.monotonic``) defaults to now + timeout_s."""
        params = {**self._extra_params, "db": self.cfg.database, "precision": PRECISION}
        data = body.encode("utf-8") if isinstance(body, str) else body
        if encoding == GZIP and not self.send_gzip:
            data, encoding = gzip.decompress(data), IDENTITY
        headers = {"Content-Encoding": "gzip"} if encoding == GZIP else None
        with self._deadline.until(deadline or time.monotonic() + self.cfg.timeout_s):
            return self.client.post("/write", params=params, content=data, headers=headers)

    def query(self, q: str, method: str = "GET") -> dict:
        params = {**self._extra_params, "db": self.cfg.database, "q": q, "epoch": "ms"}
        with self._deadline.until(time.monotonic() + self.cfg.timeout_s):
            resp = self.client.request(method, "/query", params=params)
        resp.raise_for_status()
        return resp.json()

    def ensure_database(self) -> None:
        """CREATE DATABASE on InfluxDB 1.x, with ``shard_duration``; harmless where it is not
        allowed or not needed (2.x/3.x), and where the database exists: InfluxDB then
        answers "conflicts with an existing policy" and changes nothing."""
        query = f'CREATE DATABASE "{self.cfg.database}"'
        if self.cfg.shard_duration:
            query += f" WITH SHARD DURATION {self.cfg.shard_duration}"
        with (
            contextlib.suppress(httpx.HTTPError),
            self._deadline.until(time.monotonic() + self.cfg.timeout_s),
        ):
            self.client.post(
                "/query",
                params={**self._extra_params, "q": query},
            )
        self._created_db = True

    # -- flush -----------------------------------------------------------------------------
    def flush(
        self,
        journal: Journal,
        max_batches: int | None = None,
        *,
        parked: bool = False,
        deadline_s: float | None = None,
    ) -> FlushReport:
        """Ship the outbox by the policy of the module docstring.

        ``parked``: first resend parked batches (and the acknowledged newer batches of their
        series, so the newest values end on top). ``deadline_s``: stop sending after this
        many seconds (the request under way is cut at the deadline too).
        """
        report = FlushReport()
        ob = journal.outbox
        mark = ob.last_id()  # batches queued by others during this flush are not its failures
        end = time.monotonic() + deadline_s if deadline_s is not None else None
        if ob.db.dialect.row_locks and not parked:
            self._flush_claimed(ob, report, max_batches, end)
        elif not ob.take_lease(self._holder, self._lease_ttl()):
            report.skipped = True
        else:
            try:
                self._flush_leased(ob, report, max_batches, parked, end)
            finally:
                ob.release_lease(self._holder)
        st = ob.stats()
        report.left_batches, report.parked_batches = ob.waiting_upto(mark), st["parked"]
        if st["parked"] and not report.skipped:
            report.errors.append(
                f"{st['parked']} batch(es) parked after being refused; retry with"
                f" flush --parked. Last: {st['parked_last_error']}"
            )
        return report

    def _flush_leased(
        self, ob: Outbox, report: FlushReport, limit: int | None, parked: bool, end: float | None
    ) -> None:
        if self._waiting(ob, report):
            return
        if self.connections > 1 and not parked:
            self._flush_parallel(ob, report, limit, end)
            return
        slots = ob.slots((QUEUED, PARKED, KEPT) if parked else (QUEUED, PARKED))
        parked_series = {s.series for s in slots if s.state == PARKED}
        order = [s for s in slots if s.state != QUEUED and parked] + [
            s for s in slots if s.state == QUEUED
        ]
        blocked: set[str] = set()
        done: set[int] = set()  # acknowledged with an older batch's request
        solo: set[int] = set()  # of a joined request that was refused: sent one by one
        lease_renewed = time.monotonic()
        for i, slot in enumerate(order):
            if slot.id in done:
                continue  # went with the request of an older batch
            if limit and report.sent_batches + report.failed_batches >= limit:
                break
            if end is not None and time.monotonic() >= end:
                report.deadline_reached = True
                report.errors.append("flush deadline reached")
                break
            if slot.series in blocked:
                continue
            if slot.state == QUEUED and slot.next_attempt_at > self.clock():
                blocked.add(slot.series)  # its turn has not come: the series waits with it
                continue
            if time.monotonic() - lease_renewed > self._lease_ttl() / 3:
                if not ob.take_lease(self._holder, self._lease_ttl()):
                    report.errors.append("another process took over shipping")
                    return
                lease_renewed = time.monotonic()
            group = (
                [] if parked or slot.id in solo else self._group(order, i, blocked, limit, report)
            )
            if len(group) > 1:
                sent = self._ship_group(ob, group, report, end, parked_series, blocked, solo)
                if sent is None:
                    return
                done.update(s.id for s in sent)
                if sent:
                    continue
            answer = self._ship(ob, slot, report, end)
            if not self._answered(ob, slot, answer, report, parked_series, blocked):
                return
        for series in parked_series if parked else ():
            ob.release_kept(series)

    def _flush_parallel(
        self, ob: Outbox, report: FlushReport, limit: int | None, end: float | None
    ) -> None:
        """The leased flush on ``connections`` HTTP connections at once.

        Batches go in id order as on one connection, except that a batch need not wait for
        an older one it cannot share a point with (:meth:`Slot.may_share_points`: another
        series, or time ranges that do not meet): a batch is sent once no older batch it may
        share a point with is unsent or in flight, so an older value never lands after a
        newer one. Only the HTTP posts run on the pool's threads: journal reads,
        acknowledgements, 413 splits and deletes (``#influxql``) run here, in the flushing
        thread that owns the connection. A stopping answer (429/503, 401/403, 5xx, timeout,
        refused, deadline) ends sending on every connection: requests in flight are awaited
        and acknowledged on 2xx, nothing new goes out. Until the server has taken a request
        (``_warm``: a 2xx since the writer started or last stopped) one request is in flight
        at a time, so a server that is down, refusing the credentials or overloaded gets one
        request, not one a connection."""
        slots = ob.slots((QUEUED, PARKED))
        parked_series = {s.series for s in slots if s.state == PARKED}
        todo = [s for s in slots if s.state == QUEUED]  # unsent, oldest first
        blocked: set[str] = set()
        solo: set[int] = set()
        flying: dict[Future, list[Slot]] = {}
        pool = self._executor()
        lease_renewed = time.monotonic()
        stopped = False

        def in_flight() -> int:
            return sum(len(g) for g in flying.values())

        while True:
            width = self.connections if self._warm else 1
            while not stopped and len(flying) < width:
                if limit and report.sent_batches + report.failed_batches + in_flight() >= limit:
                    break
                if end is not None and time.monotonic() >= end:
                    if not report.deadline_reached:
                        report.deadline_reached = True
                        report.errors.append("flush deadline reached")
                    stopped = True
                    break
                if time.monotonic() - lease_renewed > self._lease_ttl() / 3:
                    if not ob.take_lease(self._holder, self._lease_ttl()):
                        report.errors.append("another process took over shipping")
                        stopped = True
                        break
                    lease_renewed = time.monotonic()
                cap = (
                    limit - report.sent_batches - report.failed_batches - in_flight()
                    if limit
                    else 0
                )
                busy = [s for g in flying.values() for s in g]
                got = self._next_request(
                    ob, todo, busy, report, cap, end, (parked_series, blocked, solo)
                )
                if got is None:
                    stopped = True  # a delete got a stopping answer
                elif not got:
                    break  # nothing can go before an answer comes back
                else:
                    group, body, encoding = got
                    flying[pool.submit(self._post_counted, body, encoding, end)] = group
            if not flying:
                return
            ready, _ = wait(list(flying), return_when=FIRST_COMPLETED)
            for fut in ready:
                group = flying.pop(fut)
                answer, requests = fut.result()
                report.requests += requests
                if answer.kind == "ok":
                    self._warm = True
                elif answer.kind in STOPPING:
                    self._warm = False
                if not self._answered_request(
                    ob, group, answer, report, parked_series, blocked, solo, stopped, end
                ):
                    stopped = True
                elif answer.kind != "ok" and len(group) > 1:
                    todo[:] = sorted([*todo, *group], key=lambda s: s.id)  # again one by one

    def _next_request(
        self,
        ob: Outbox,
        todo: list[Slot],
        busy: list[Slot],
        report: FlushReport,
        cap: int,
        end: float | None,
        sets: tuple[set[str], set[str], set[int]],
    ) -> tuple[list[Slot], bytes, str] | tuple[()] | None:
        """The next request that may go while ``busy`` batches are in flight: (its batches,
        taken out of ``todo``, the body, its encoding); () when every unsent batch has to
        wait for an answer; None when a delete (sent to /query right here, in its turn) got
        a stopping answer. ``cap``: at most this many batches (0: no limit); ``sets``: the
        flush's parked series, held-back series and batches to send alone."""
        parked_series, blocked, solo = sets
        waiting: list[Slot] = []  # older unsent batches, which newer ones may not pass
        i = 0
        while i < len(todo):
            slot = todo[i]
            if slot.series in blocked:
                todo.pop(i)  # held back for this flush, with the rest of its series
                continue
            if slot.next_attempt_at > self.clock():
                blocked.add(slot.series)  # its turn has not come: the series waits with it
                todo.pop(i)
                continue
            if any(slot.may_share_points(o) for o in (*busy, *waiting)):
                waiting.append(slot)
                i += 1
                continue
            if slot.attempts or slot.id in solo or self.send_gzip or self.coalesce_points <= 0:
                group = [slot]  # refused before: alone until InfluxDB takes it
            else:
                group = self._joinable(todo, i, busy + waiting, cap, solo)
            stored, encoding = ob.raw_body(slot.id) or (b"", IDENTITY)
            body, encoding = self._wire_body(stored, encoding)
            if _head(body, encoding) == _MARK:  # a delete: /query in its turn, here
                todo.pop(i)
                answer = self._statements(unpack(body, encoding), end, report)
                if answer.kind == "ok":
                    self._sent_ok(ob)
                if not self._answered(ob, slot, answer, report, parked_series, blocked):
                    return None
                continue
            bodies = [body]
            for member in group[1:]:
                more, enc = self._wire_body(*(ob.raw_body(member.id) or (b"", IDENTITY)))
                if enc != IDENTITY or _head(more, enc) == _MARK:
                    break  # a delete goes alone, in its turn: the request ends before it
                bodies.append(more)
            sent = {s.id for s in group[: len(bodies)]}
            todo[:] = [s for s in todo if s.id not in sent]
            if len(bodies) > 1:
                return group[: len(bodies)], b"\n".join(bodies), IDENTITY
            return [slot], body, encoding
        return ()

    def _joinable(
        self, todo: list[Slot], i: int, others: list[Slot], cap: int, solo: set[int]
    ) -> list[Slot]:
        """``todo[i]`` and the unsent batches after it that may go in its request: queued,
        due, never refused, together at most ``coalesce_points`` points, none passing an
        older batch it may share a point with (``others``: in flight or waiting, and the
        ones this join passes over)."""
        room, now, group = self.coalesce_points, self.clock(), [todo[i]]
        room -= todo[i].n_points
        passed = list(others)
        for slot in todo[i + 1 :]:
            if (cap and len(group) >= cap) or room <= 0:
                break
            if slot.attempts or slot.id in solo or slot.next_attempt_at > now:
                break  # it goes alone, or later; what follows waits as on one connection
            if slot.n_points > room or any(slot.may_share_points(o) for o in passed):
                passed.append(slot)  # it waits: newer batches must not pass it either
                continue
            group.append(slot)
            room -= slot.n_points
        return group

    def _post_counted(self, body: bytes, encoding: str, end: float | None) -> tuple[_Answer, int]:
        """:meth:`_post` on a pool thread (it touches no journal); the answer and the
        requests it took."""
        tally = FlushReport()
        return self._post(body, end, tally, encoding), tally.requests

    def _answered_request(
        self,
        ob: Outbox,
        group: list[Slot],
        answer: _Answer,
        report: FlushReport,
        parked_series: set[str],
        blocked: set[str],
        solo: set[int],
        stopped: bool,
        end: float | None,
    ) -> bool:
        """Act on the answer to one posted request (one batch or a join), in the flushing
        thread; False: the policy stops the flush. ``stopped``: the flush stopped already
        (a 2xx then does not clear the backoff just set; a second stopping answer is not
        counted as a second failure, though a later ``Retry-After`` holds)."""
        if len(group) > 1:
            if answer.kind == "ok":
                checkpoint("flush.after_send")
                with ob.db.transaction():
                    for slot in group:
                        self._acknowledged(ob, slot, parked_series, report)
                    if not stopped:
                        self._sent_ok(ob)
                return True
            if answer.kind not in STOPPING:
                solo.update(s.id for s in group)  # refused (400 for a bad line, 413)
                return True
        slot = group[0]
        if answer.kind == "too_large" and len(group) == 1:
            stored, encoding = ob.raw_body(slot.id) or (b"", IDENTITY)
            body, encoding = self._wire_body(stored, encoding)
            lines = unpack(body, encoding).split("\n")
            if len(lines) > 1:  # the halves go on this thread's connection, in order
                answer = self._split(ob, slot, lines, end, report)
        if answer.kind == "ok" and len(group) == 1:
            checkpoint("flush.after_send")
            if not stopped:
                self._sent_ok(ob)
        prev = ob.backoff(self.target) if answer.kind in STOPPING and stopped else None
        if prev is not None:
            report.errors.append(answer.error)
            ob.failed(slot.id, answer.error, count=False)
            if answer.retry_after and answer.retry_after > prev.not_before:
                prev.not_before = answer.retry_after  # the later Retry-After holds
                ob.set_backoff(self.target, prev)
                report.retry_at = answer.retry_after
            return False
        return self._answered(ob, slot, answer, report, parked_series, blocked)

    def _sent_ok(self, ob: Outbox) -> None:
        """The server takes writes again: forget its failures."""
        if self._backoff_row:
            ob.clear_backoff(self.target)
            self._backoff_row = False

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.connections, thread_name_prefix="influx-post")
        return self._pool

    def _flush_claimed(
        self, ob: Outbox, report: FlushReport, limit: int | None, end: float | None
    ) -> None:
        """Ship claim after claim (PostgreSQL) until nothing is due or the policy stops."""
        if self._waiting(ob, report):
            return
        while True:
            with ob.claim(self._holder, CLAIM_SERIES, CLAIM_DEPTH, now=self.clock()) as got:
                if not got:
                    return
                if not self._ship_claimed(ob, got, report, limit, end):
                    return

    def _group(
        self,
        order: list[Slot],
        i: int,
        blocked: set[str],
        limit: int | None,
        report: FlushReport,
    ) -> list[Slot]:
        """``order[i]`` and the queued batches right after it that are due, never refused,
        of series not held back, together at most ``coalesce_points`` points: what one
        request carries. Empty when the bodies go as stored gzip (those are not joined)."""
        if self.send_gzip or self.coalesce_points <= 0:
            return []
        room = self.coalesce_points
        cap = limit - report.sent_batches - report.failed_batches if limit else len(order)
        now, group = self.clock(), []
        for slot in order[i:]:
            if (
                len(group) >= cap
                or slot.state != QUEUED
                or slot.attempts  # refused before: it goes alone until InfluxDB takes it
                or slot.series in blocked
                or slot.next_attempt_at > now
                or slot.n_points > room
            ):
                break
            group.append(slot)
            room -= slot.n_points
        return group

    def _ship_group(
        self,
        ob: Outbox,
        group: list[Slot],
        report: FlushReport,
        end: float | None,
        parked_series: set[str],
        blocked: set[str],
        solo: set[int],
    ) -> list[Slot] | None:
        """Send several queued batches in one request (their lines in id order, so each
        series' older lines come first) and acknowledge them in one commit; the batches
        sent (those before a ``#influxql`` batch, which goes alone to /query in its turn).

        Empty: not sent, or refused (its batches go in ``solo``: the caller sends them one
        by one, under the per-batch policy); None: the policy stops the flush (as it would
        have for the first batch alone). InfluxDB writes a request's points in order (the
        last of equal series and timestamp wins), so a joined request leaves what the
        batches one after the other would; a crash before the commit resends them all."""
        bodies: list[bytes] = []
        for slot in group:
            stored, encoding = ob.raw_body(slot.id) or (b"", IDENTITY)
            body, encoding = self._wire_body(stored, encoding)
            if encoding != IDENTITY or _head(body, encoding) == _MARK:
                break
            bodies.append(body)
        group = group[: len(bodies)]
        if len(group) < 2:
            return []
        answer = self._post(b"\n".join(bodies), end, report)
        if answer.kind == "ok":
            checkpoint("flush.after_send")
            with ob.db.transaction():
                for slot in group:
                    self._acknowledged(ob, slot, parked_series, report)
                if self._backoff_row:  # the server takes writes again: forget its failures
                    ob.clear_backoff(self.target)
                    self._backoff_row = False
            return group
        if answer.kind in STOPPING:
            self._answered(ob, group[0], answer, report, parked_series, blocked)
            return None
        solo.update(s.id for s in group)  # refused (400 for a bad line, 413): batch by batch
        return []

    def _ship_claimed(
        self,
        ob: Outbox,
        got: list,
        report: FlushReport,
        limit: int | None,
        end: float | None,
    ) -> bool:
        """Send one claim's batches in order; False: stop flushing (limit, deadline, a
        stopping answer)."""
        parked_series = ob.parked_series({b.series for b in got})
        blocked: set[str] = set()
        for b in got:
            if limit and report.sent_batches + report.failed_batches >= limit:
                return False
            if end is not None and time.monotonic() >= end:
                report.deadline_reached = True
                report.errors.append("flush deadline reached")
                return False
            if b.series in blocked:
                continue
            slot = Slot(b.id, b.series, b.state, b.next_attempt_at, b.n_points, b.attempts)
            answer = self._ship(ob, slot, report, end)
            if not self._answered(ob, slot, answer, report, parked_series, blocked):
                return False
        return True

    def _answered(
        self,
        ob: Outbox,
        slot: Slot,
        answer: _Answer,
        report: FlushReport,
        parked_series: set[str],
        blocked: set[str],
    ) -> bool:
        """Act on the server's answer to one batch; False: stop flushing."""
        if answer.kind == "ok":
            self._acknowledged(ob, slot, parked_series, report)
            return True
        report.errors.append(answer.error)
        if answer.kind in STOPPING:
            self._stop(ob, slot, answer, report)
            return False
        report.failed_batches += 1
        if self._refused(ob, slot, answer):
            parked_series.add(slot.series)  # newer batches of the series may go on
        else:
            blocked.add(slot.series)  # it waits for its retry time: so do its followers
        return True

    def _waiting(self, ob: Outbox, report: FlushReport) -> bool:
        """True (and says so) while the server-wide backoff holds."""
        wait = ob.backoff(self.target)
        self._backoff_row = wait is not None
        if wait and self.clock() < wait.not_before and self._applies(wait):
            report.retry_at = wait.not_before
            report.errors.append(
                f"waiting {wait.not_before - self.clock():.1f} s before sending again"
                f" (after: {wait.last_error})"
            )
            return True
        return False

    def _acknowledged(
        self, ob: Outbox, slot: Slot, parked_series: set[str], report: FlushReport
    ) -> None:
        if slot.state == QUEUED:
            ob.ack(slot.id, keep=slot.series in parked_series)
        elif slot.state == PARKED:
            ob.ack(slot.id, keep=True)  # released with the series' other kept batches
        report.sent_batches += 1
        report.sent_points += slot.n_points
        report.acked_ids.append(slot.id)

    def _refused(self, ob: Outbox, slot: Slot, answer: _Answer) -> bool:
        """Count a refusal against the batch; True when that parks it."""
        attempts = slot.attempts + 1
        park = slot.state == PARKED or attempts >= MAX_ATTEMPTS or answer.kind == "too_large"
        retry = self.clock() + backoff_s(attempts)
        ob.failed(slot.id, answer.error, next_attempt_at=retry, park=park)
        return park

    def _stop(self, ob: Outbox, slot: Slot, answer: _Answer, report: FlushReport) -> None:
        ob.failed(slot.id, answer.error, count=False)
        if answer.kind not in BACKING_OFF:
            if answer.kind == "deadline":
                report.deadline_reached = True
            return
        prev = ob.backoff(self.target)
        failures = (prev.failures if prev else 0) + 1
        not_before = answer.retry_after or self.clock() + backoff_s(failures)
        ob.set_backoff(
            self.target,
            Backoff(
                failures,
                not_before,
                answer.kind,
                self._fingerprint if answer.kind == "auth" else None,
                answer.error,
            ),
        )
        report.retry_at = not_before
        self._backoff_row = True

    def _applies(self, wait: Backoff) -> bool:
        """An auth backoff ends as soon as the credentials change."""
        return wait.reason != "auth" or wait.credentials == self._fingerprint

    def _lease_ttl(self) -> float:
        return max(LEASE_MIN_S, 3 * self.cfg.timeout_s)

    # -- one batch -------------------------------------------------------------------------
    def _ship(self, ob: Outbox, slot: Slot, report: FlushReport, end: float | None) -> _Answer:
        stored, encoding = ob.raw_body(slot.id) or (b"", IDENTITY)
        body, encoding = self._wire_body(stored, encoding)
        if _head(body, encoding) == _MARK:  # deletes from a correction: /query, never split
            return self._statements(unpack(body, encoding), end, report)
        answer = self._post(body, end, report, encoding)
        if answer.kind == "too_large":
            lines = unpack(body, encoding).split("\n")
            if len(lines) > 1:
                answer = self._split(ob, slot, lines, end, report)
        if answer.kind == "ok":
            checkpoint("flush.after_send")
            if self._backoff_row:  # the server takes writes again: forget its failures
                ob.clear_backoff(self.target)
                self._backoff_row = False
        return answer

    def _wire_body(self, stored: bytes, encoding: str) -> tuple[bytes, str]:
        """A stored body as it goes on the wire: the gzip as is (``send_gzip``) or the text,
        decompressed here once per send (it was twice: once to look for ``#influxql``, once
        in :meth:`write`; ~1.5 ms a 5000-point batch each)."""
        if encoding == GZIP and not self.send_gzip:
            return gzip.decompress(stored), IDENTITY
        return stored, encoding

    def _split(
        self, ob: Outbox, slot: Slot, lines: list[str], end: float | None, report: FlushReport
    ) -> _Answer:
        """413: send halves, recursively down to single lines; keep what is left in the batch."""
        mid = len(lines) // 2
        stack, rejected, answer = [lines[mid:], lines[:mid]], [], _Answer("ok", 204, "")
        while stack:
            chunk = stack.pop()
            got = self._post(pack(chunk), end, report, GZIP)
            if got.kind == "ok":
                continue
            if got.kind == "too_large" and len(chunk) > 1:
                mid = len(chunk) // 2
                stack += [chunk[mid:], chunk[:mid]]
                continue
            if got.kind == "too_large":
                rejected.append(chunk[0])
                answer = got
                continue
            rest = chunk + [ln for c in reversed(stack) for ln in c]
            ob.rewrite(slot.id, rejected + rest)
            return got
        if rejected:  # only lines the server will never take are left: park them
            ob.rewrite(slot.id, rejected)
            slot.n_points = len(rejected)
            return _Answer("too_large", 413, f"{answer.error} ({len(rejected)} line(s) too large)")
        return answer

    def _post(
        self, body: bytes, end: float | None, report: FlushReport, encoding: str = IDENTITY
    ) -> _Answer:
        deadline = time.monotonic() + self.cfg.timeout_s
        cut_by_flush = end is not None and end < deadline
        checkpoint("flush.before_send")
        report.requests += 1
        try:
            resp = self.write(body, min(deadline, end) if cut_by_flush else deadline, encoding)
            if (
                resp.status_code == 404
                and not self._created_db
                and "database not found" in resp.text
            ):
                self.ensure_database()
                resp = self.write(body, min(deadline, end) if cut_by_flush else deadline, encoding)
        except httpx.TimeoutException as exc:
            kind = "deadline" if cut_by_flush and time.monotonic() >= end else "timeout"
            what = "flush deadline" if kind == "deadline" else f"{self.cfg.timeout_s:g} s deadline"
            return _Answer(
                kind, None, self._err(f"no answer within the {what} ({type(exc).__name__})")
            )
        except httpx.HTTPError as exc:
            return _Answer("down", None, self._err(f"unreachable: {type(exc).__name__}: {exc}"))
        code = resp.status_code
        error = self._err(f"answered {code}: {resp.text.strip()[:300]}")
        return _Answer(_kind(code), code, error, self._retry_after(resp))

    def _statements(self, text: str, end: float | None, report: FlushReport) -> _Answer:
        """Run a batch of InfluxQL statements (``#influxql`` lines) on /query: ok when InfluxDB
        answers 200 without an error in any result."""
        q = ";".join(ln[len(INFLUXQL_MARK) :] for ln in text.split("\n") if ln.strip())
        params = {**self._extra_params, "db": self.cfg.database, "q": q}
        deadline = time.monotonic() + self.cfg.timeout_s
        report.requests += 1
        try:
            with self._deadline.until(min(deadline, end) if end else deadline):
                resp = self.client.post("/query", params=params)
        except httpx.TimeoutException as exc:
            return _Answer(
                "timeout", None, self._err(f"no answer to a delete ({type(exc).__name__})")
            )
        except httpx.HTTPError as exc:
            return _Answer("down", None, self._err(f"unreachable: {type(exc).__name__}: {exc}"))
        code = resp.status_code
        error = self._err(f"answered {code} to a delete: {resp.text.strip()[:300]}")
        if code == 200:
            failed = [r for r in resp.json().get("results", []) if "error" in r]
            return _Answer("reject", code, error) if failed else _Answer("ok", code, "")
        return _Answer(_kind(code), code, error, self._retry_after(resp))

    def _err(self, text: str) -> str:
        return redact(f"InfluxDB at {self.target} {text}", self.secrets)

    def _retry_after(self, resp: httpx.Response) -> float | None:
        if resp.status_code not in (429, 503):
            return None
        delay = parse_retry_after(resp.headers.get("Retry-After"), self.clock())
        return None if delay is None else self.clock() + min(delay, MAX_RETRY_AFTER_S)


_MARK = INFLUXQL_MARK.encode()


def _head(body: bytes, encoding: str) -> bytes:
    """The first bytes of a body's text (as many as ``INFLUXQL_MARK``), inflating only those
    of a gzip body."""
    if encoding != GZIP:
        return body[: len(_MARK)]
    return zlib.decompressobj(wbits=31).decompress(body, len(_MARK))


def _kind(code: int) -> str:
    if 200 <= code < 300:
        return "ok"
    if code in (401, 403):
        return "auth"
    if code in (429, 503):
        return "busy"
    if code == 413:
        return "too_large"
    return "server" if code >= 500 else "reject"


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def split_credentials(url: str) -> tuple[str, dict[str, str], dict[str, str]]:
    """``url`` without credentials, its other query parameters, and the credentials found.

    ``http://u:p@host/?u=..&p=..&token=..`` -> (``http://host``, {}, {username, password, token}).
    """
    parts = urlsplit(url)
    creds: dict[str, str] = {}
    if parts.username is not None:
        creds["username"] = unquote(parts.username)
    if parts.password is not None:
        creds["password"] = unquote(parts.password)
    keep: dict[str, str] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        name = {"u": "username", "p": "password", "token": "token"}.get(k.lower())
        if name:
            creds.setdefault(name, v)
        else:
            keep[k] = v
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    base = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return base, keep, creds


# -- total deadline per request ----------------------------------------------------------------
class _Deadline(threading.local):
    """The monotonic time by which the current request must be over (per thread)."""

    at: float | None = None

    @contextlib.contextmanager
    def until(self, at: float) -> Iterator[None]:
        outer, self.at = self.at, at if self.at is None else min(at, self.at)
        try:
            yield
        finally:
            self.at = outer

    def clamp(self, timeout: float | None, exc: type[Exception]) -> float | None:
        if self.at is None:
            return timeout
        left = self.at - time.monotonic()
        if left <= 0:
            raise exc("request deadline reached")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A socket stream whose every read/write waits at most until the request deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self.inner, self.deadline = inner, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, self.deadline.clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, self.deadline.clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        t = self.deadline.clamp(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self.inner.start_tls(ssl_context, server_hostname, t), self.deadline)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, deadline: _Deadline) -> None:
        self.inner, self.deadline = httpcore.SyncBackend(), deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        t = self.deadline.clamp(timeout, httpcore.ConnectTimeout)
        stream = self.inner.connect_tcp(host, port, t, local_address, socket_options)
        return _DeadlineStream(stream, self.deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        t = self.deadline.clamp(timeout, httpcore.ConnectTimeout)
        stream = self.inner.connect_unix_socket(path, t, socket_options)
        return _DeadlineStream(stream, self.deadline)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class DeadlineTransport(httpx.HTTPTransport):
    """httpx's transport over a network backend that enforces a total deadline per request.

    httpx's timeouts bound each socket operation: a server sending one byte per second
    never trips a 10 s read timeout. Here every socket operation waits at most until the
    deadline set with ``_Deadline.until``, so a request ends by then whatever the server does.
    """

    def __init__(self, deadline: _Deadline, max_connections: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(self._pool, httpcore.ConnectionPool):  # pragma: no cover
            raise RuntimeError("unexpected httpx transport internals")
        self._pool = httpcore.ConnectionPool(
            max_connections=max_connections, network_backend=_DeadlineBackend(deadline)
        )
