"""Who is connected, and getting pushes to them: numbered, logged, sent only once committed.

Every event an agent receives carries that agent's sequence number (CONSOLE.md §5). ``push``
numbers the event, appends it to the agent's event log in the current write batch and sends it
once that batch is committed, so a console never sees something the database could still lose.
A console that reconnects with the last number it saw gets the missed events from the log, in
order, once (``attach``); each connection remembers the last number it was sent, so an event
can never reach it twice even when a resume and a live push race.

Everything the hub sends (responses, pushes, buyer messages) goes through one outbox: frames
queued per connection in the order they were produced and written in the next loop turn, one
socket write per connection, so a commit's pushes and the acks of the requests it completes
share a write (issue 9). Every close of a connection writes its queued frames first
(``close``, ``close_now``, ``flush_to``; the server's stop calls ``stop_batching``). Fan-out never
waits for a client (``websockets.broadcast`` semantics): a frame is written into each
connection's buffer and the loop moves on. A console whose buffer grows past
``SLOW_CLIENT_BYTES`` is not reading; it is closed and will resync when it comes back (issue 6).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import cast

from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from console.protocol.access import TEAM_ROLES
from console.protocol.codec import encode
from console.protocol.limits import MAX_CONNECTIONS_PER_USER
from console.protocol.messages import AnyMessage, BuyerPush, Event, Response, Role
from console.server.journal import Journal
from console.server.repository import events as events_sql
from console.server.store import Store

log = logging.getLogger(__name__)

KEEP_ROWS = 250_000
"""Events kept for resume, the shop's newest (``_trim``: a delete of the oldest ids, a range at the
start of the table, instead of one per agent by an index keyed by agent). About a minute of an
11.11 peak (2,000 answered messages/s, 2.36 events each), hours of an ordinary day; 5,000 per
agent kept before (schema 6) could be 2.5 million rows for 500 agents. A console whose missed
events are older gets a fresh snapshot, as one further behind than 5,000 did: the snapshot is the
agent's whole list as of now, so its view loses nothing; only the replay of single events is gone."""
RESUME_ROWS = 50_000
"""At most this many event ids a resume reads forward from its mark (every agent's events in that
range are read, to find this agent's): about 10 s of an 11.11 peak's events, 6.5-8 ms on the loop
(measured: 300,000 events of 400 bytes, 500 agents, a warm cache; 2.8-3.8 ms for 25,000). A busy
agent's mark is at most 15 of its events back (about 2 s at the peak), so a console a few seconds
behind is within it; one further behind, or a quiet agent's whose mark is older, gets a snapshot."""
TRIM_EVERY = 2000
"""Pushes between trims; each trim also takes the agents' last numbers into ``agent_event_tops``,
so a start reads at most about this many events after them."""
TRIM_MOST = 5 * TRIM_EVERY
"""At most this many events deleted by one trim (about 2,000 when the log is at ``KEEP_ROWS``): a
log of schema 6, up to 2.5 million events, shrinks over trims of a few ms each, not in one
statement of seconds on the loop."""
SLOW_CLIENT_BYTES = 4 * 1024 * 1024


@dataclass(eq=False)
class AgentLink:
    """One logged-in console connection."""

    conn: ServerConnection
    agent: str
    role: Role
    token: str = ""
    sent_seq: int = -1
    revoked: bool = False  # its account's access ended (revocation.py): no request is served  # the last event number written to this connection; -1 before attach

    @property
    def supervises(self) -> bool:
        return self.role in TEAM_ROLES


@dataclass
class _AgentLog:
    seq: int = 0  # the last number given out
    committed: int = 0  # the last number whose batch is committed (and sent)
    links: dict[AgentLink, None] = field(default_factory=dict)  # in login order: the oldest first


class Hub:
    """Connection registry (agents and buyers) and the per-agent numbered event log."""

    def __init__(self, store: Store, journal: Journal | None = None) -> None:
        self.store = store
        self.journal = journal or Journal()  # a failed request takes its numbers and pushes back
        self._agents: dict[str, _AgentLog] = {}
        self._buyers: dict[str, set[ServerConnection]] = {}
        for agent, last in events_sql.last_event_seqs(store).items():
            self._agents[agent] = _AgentLog(seq=last, committed=last)
        self._trim_counter = 0
        self._closing: set[asyncio.Task[None]] = set()
        # frames not written yet, per connection in the order they were queued (pushes once
        # committed, responses, buyer messages): one socket write per connection per flush
        self._outbox: dict[ServerConnection, list[bytes]] = {}
        self._out_scheduled = False
        self._batching = True
        # the current request's deliveries (agent events and buyer frames, in the order made),
        # handed to the store as one after-commit action when the request stands (``_after``)
        self._handover: list[tuple[_AgentLog | None, int | str, bytes]] | None = None

    # -- agents -----------------------------------------------------------------------------

    def _log(self, agent: str) -> _AgentLog:
        entry = self._agents.get(agent)
        if entry is None:
            entry = self._agents[agent] = _AgentLog()
        return entry

    def last_seq(self, agent: str) -> int:
        """The last committed event number of an agent (what a snapshot is "as of")."""
        return self._log(agent).committed

    def is_connected(self, agent: str) -> bool:
        entry = self._agents.get(agent)
        return bool(entry and entry.links)

    def links(self) -> Iterable[AgentLink]:
        for entry in self._agents.values():
            yield from entry.links

    def supervisor_ids(self) -> list[str]:
        return [agent for agent, entry in self._agents.items() if any(link.supervises for link in entry.links)]

    def push(self, agent: str, make: Callable[[int], Event]) -> None:
        """Number an event for ``agent``, log it in the current batch, send it after commit."""
        entry = self._log(agent)
        key = ("seq", agent)
        if self.journal.fresh(key):  # the first push to this agent in the request: no holes
            self.journal.once(key, partial(setattr, entry, "seq", entry.seq))
        entry.seq += 1
        seq = entry.seq
        body = encode(cast(AnyMessage, make(seq)))
        events_sql.append_event(self.store, agent, seq, body)
        self._after(entry, seq, body)
        self._trim_counter += 1
        if self._trim_counter >= TRIM_EVERY:
            self._trim_counter = 0
            self._trim()

    def _after(self, entry: _AgentLog | None, target: int | str, body: bytes) -> None:
        """Deliver once the request stands and its batch is committed: an agent's event
        (``entry``, its number ``target``) or a buyer's frame (``entry`` None, the buyer ``target``).

        A request's deliveries go to the store as one after-commit action, in the order they were
        made (issue 9: a closure pair and a queue entry per push was most of a push's own cost);
        a failed request drops them with the journal. Outside a request each goes at once."""
        if not self.journal.active:
            self.store.after_commit(partial(self._deliver_all, [(entry, target, body)]))
            return
        if self._handover is None:
            self._handover = []
            self.journal.once(("hub", "handover"), self._drop_handover)
            self.journal.on_success(self._hand_over)
        self._handover.append((entry, target, body))

    def _drop_handover(self) -> None:
        self._handover = None

    def _hand_over(self) -> None:
        items, self._handover = self._handover, None
        if items:
            self.store.after_commit(partial(self._deliver_all, items))

    def _deliver_all(self, items: list[tuple[_AgentLog | None, int | str, bytes]]) -> None:
        outbox = self._outbox
        for entry, target, body in items:
            if entry is None:
                for conn in self._buyers.get(cast(str, target), ()):
                    outbox.setdefault(conn, []).append(body)
                continue
            seq = cast(int, target)
            entry.committed = max(entry.committed, seq)
            for link in entry.links:
                if link.sent_seq < seq:
                    link.sent_seq = seq
                    outbox.setdefault(link.conn, []).append(body)
        self._schedule_out()

    def attach(self, link: AgentLink, last_seq: int | None) -> list[bytes] | None:
        """Register a console. Call when nothing is pending (in an after-commit action).

        Returns the events it missed after ``last_seq`` (to send, in order, right away), or None
        when it needs a snapshot instead: no ``last_seq``, or the log no longer reaches back that
        far (``KEEP_ROWS``), or reading them would scan more than ``RESUME_ROWS`` events, or
        ``last_seq`` is ahead of the log. Either way the link then gets every later event exactly
        once.
        """
        entry = self._log(link.agent)
        entry.links[link] = None
        while len(entry.links) > MAX_CONNECTIONS_PER_USER:  # PROTOCOL.md limits: the oldest console goes
            oldest = next(iter(entry.links))
            del entry.links[oldest]
            self._close(oldest.conn, "another console of this account logged in")
        upto = entry.committed  # uncommitted events reach this link through their own delivery
        link.sent_seq = upto
        if last_seq is None or last_seq > upto:
            return None
        if last_seq == upto:
            return []
        return events_sql.events_between(self.store, link.agent, last_seq, upto, RESUME_ROWS)

    def send_raw(self, conn: ServerConnection, body: bytes) -> None:
        self._send([conn], body)

    def detach(self, link: AgentLink) -> bool:
        """Forget a connection; True when it was the agent's last one."""
        entry = self._agents.get(link.agent)
        if entry is None:
            return True
        entry.links.pop(link, None)
        return not entry.links

    def ahead_of_log(self) -> bool:
        """Whether some agent was given a number its event log does not hold (a lost batch)."""
        last = events_sql.last_event_seqs(self.store)
        return any(entry.seq > last.get(agent, 0) for agent, entry in self._agents.items())

    def resync(self) -> None:
        """Sequence numbers as the event log has them (after a lost batch: no holes, no repeats)."""
        last = events_sql.last_event_seqs(self.store)
        for agent, entry in self._agents.items():
            entry.seq = entry.committed = last.get(agent, 0)

    def _trim(self) -> None:
        """Keep the shop's newest ``KEEP_ROWS`` events; the agents' last numbers go with it into
        the same batch (``events_sql.trim_events``)."""
        events_sql.trim_events(self.store, KEEP_ROWS, TRIM_MOST)

    # -- direct answers -----------------------------------------------------------------------

    def reply(self, conn: ServerConnection, message: Response | Event) -> None:
        """Send one response (or an unnumbered snapshot) to one connection without waiting."""
        self._send([conn], encode(cast(AnyMessage, message)))

    # -- buyers -------------------------------------------------------------------------------

    def add_buyer(self, buyer: str, conn: ServerConnection) -> None:
        self._buyers.setdefault(buyer, set()).add(conn)

    def remove_buyer(self, buyer: str, conn: ServerConnection) -> None:
        conns = self._buyers.get(buyer)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._buyers[buyer]

    def buyer_connected(self, buyer: str) -> bool:
        """Whether the buyer side holds a connection for this buyer now."""
        return bool(self._buyers.get(buyer))

    def to_buyer(self, buyer: str, message: BuyerPush) -> None:
        """Send to every connection of a buyer once the current batch is committed."""
        self._after(None, buyer, encode(message))

    # -- the wire -------------------------------------------------------------------------------

    def _send(self, conns: list[ServerConnection], body: bytes) -> None:
        outbox = self._outbox
        for conn in conns:
            outbox.setdefault(conn, []).append(body)
        if conns:
            self._schedule_out()

    def _schedule_out(self) -> None:
        """Write the outbox in the next loop turn (at once when batching is off or there is no
        loop). A commit's after-commit actions (pushes, and the answers of the requests it holds,
        answers.py) run in one turn, so they share each connection's write. The requests that
        await a commit (hello, login, images) answer a turn later, in a write of their own: rare
        at a peak, where a turn's wait is what every frame pays. Two turns (until session 10) put
        those in the same write too, and cost every push a turn: p99 at 2,000 answered messages/s
        (5,000 queued) 34-62 ms against 57-117 alternated three times, writes per answered message
        2.14 against 2.15 (``bench/wire_writes.py``), CPU the same."""
        if self._out_scheduled or not self._outbox:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (cannot have connections): write now
            self.flush()
            return
        if not self._batching:
            self.flush()
            return
        self._out_scheduled = True
        loop.call_soon(self._flush_out)

    def _flush_out(self) -> None:
        self._out_scheduled = False
        self.flush()

    def flush(self) -> None:
        """Write everything queued now: each connection's frames, in the order they were queued,
        in one socket write."""
        outbox, self._outbox = self._outbox, {}
        for conn, bodies in outbox.items():
            self._write(conn, bodies)

    def flush_to(self, conn: ServerConnection) -> None:
        """Write what is queued for one connection now (before it is closed: nothing is lost)."""
        bodies = self._outbox.pop(conn, None)
        if bodies:
            self._write(conn, bodies)

    def stop_batching(self) -> None:
        """From now on write at once (the server stops: its connections close next)."""
        self._batching = False
        self.flush()

    def _write(self, conn: ServerConnection, bodies: list[bytes]) -> None:
        if conn.protocol.state is not State.OPEN or conn.send_in_progress is not None:
            return  # closing, or closed: a console resyncs by sequence number when it comes back
        try:
            for body in bodies:
                conn.protocol.send_text(body)
            # frames only: an end of stream (b"") is queued by a closing handshake, not while OPEN
            conn.transport.write(b"".join(conn.protocol.data_to_send()))
        except Exception as exc:  # as websockets.broadcast does: one connection's failure is its own
            log.warning("skipped a write: failed to write it: %s", exc)
            return
        self._drop_if_slow(conn)

    def _drop_if_slow(self, conn: ServerConnection) -> None:
        transport = conn.transport
        if transport is not None and transport.get_write_buffer_size() > SLOW_CLIENT_BYTES:
            log.warning("closing a connection that does not read (%s)", conn.remote_address)
            transport.abort()

    def _close(self, conn: ServerConnection, reason: str) -> None:
        """Close a connection politely (policy violation, 1008) without waiting for it here."""
        self.close(conn, 1008, reason)

    def close(self, conn: ServerConnection, code: int, reason: str) -> None:
        """Close a connection with ``code`` and ``reason`` without waiting for it here; what was
        queued for it is written first."""
        self.flush_to(conn)
        task = asyncio.get_running_loop().create_task(conn.close(code, reason))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def close_now(self, conn: ServerConnection, code: int, reason: str) -> None:
        """Write what is queued for ``conn``, then close it and wait for the closing handshake.
        Every close of a served connection goes through here or ``close``: a frame queued for
        it a moment before would otherwise be dropped (it is no longer OPEN when the outbox is
        written)."""
        self.flush_to(conn)
        await conn.close(code, reason)
