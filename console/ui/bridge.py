"""The one bridge between Qt and the asyncio client: ``ClientBackend``.

Widgets call ``Backend`` methods, which return at once; each spawns a short task on the qasync
loop that calls ``AgentClient`` and puts the answer into ``ConsoleState``. Server events reach
``ConsoleState`` through the client's observers, which run on the same (Qt) thread under qasync.
Every task is kept until it ends; a failed request becomes a readable error on the state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import urlsplit

from PySide6.QtCore import QCoreApplication

from console.client.agent import AgentClient, ConnectionState, ReplyOutcome, StateChange
from console.client.errors import ClientError, NotConnected
from console.protocol.messages import (
    AgentEvent,
    BuyerTile,
    CardKind,
    ErrorCode,
    Status,
)
from console.reception.model import Section
from console.ui.errors import error_text, transfer_error_text
from console.ui.requests import Requests
from console.ui.state import Connection, ConsoleState
from console.ui.team_data import decisions_from_protocol
from console.ui.transfer_targets import targets_from_protocol

log = logging.getLogger(__name__)

_CONNECTION = {
    ConnectionState.CONNECTING: Connection.CONNECTING,
    ConnectionState.ONLINE: Connection.ONLINE,
    ConnectionState.RECONNECTING: Connection.RECONNECTING,
    ConnectionState.OFFLINE: Connection.OFFLINE,
}


async def _done(coro: Coroutine[Any, Any, object]) -> None:
    await coro


class ClientBackend:
    """``Backend`` over a running ``AgentClient``; see the module docstring."""

    def __init__(self, client: AgentClient, state: ConsoleState) -> None:
        self.client = client
        self.state = state
        self._requests = Requests(lambda what, exc: self.state.report_error(f"{what}：{error_text(exc)}"))
        self._disconnect: list[Callable[[], None]] = []

    def attach(self) -> None:
        """Start feeding the state: what the client already holds, then every change.

        Called once the window observes the state, so it sees the first snapshot and status."""
        client, state = self.client, self.state
        self._disconnect = [
            client.events.connect(self._on_client_event),
            client.state_changed.connect(self._on_client_state_changed),
            client.reply_outcomes.connect(self._on_client_reply_outcome),
            client.whatif_updates.connect(state.set_whatif),  # the room's what-if runs
        ]
        state.view = client.view  # the state reads the client's view, never folds the events again
        if client.view.seq is not None:  # the client logged in before the window existed
            state.resync()
        self._on_client_state_changed(client.state)

    def detach(self) -> None:
        """Stop feeding the state and cancel the requests still under way."""
        for disconnect in self._disconnect:
            disconnect()
        self._requests.cancel()

    async def drain(self, timeout: float = 2.0) -> None:
        """Wait (a little) for the requests under way, e.g. before closing."""
        await self._requests.drain(timeout)

    # -- requests (Backend) --------------------------------------------------------------------

    def _spawn(self, what: str, coro: Coroutine[Any, Any, None]) -> None:
        self._requests.spawn(what, coro)

    def set_status(self, status: str) -> None:
        self._spawn(QCoreApplication.translate("ClientBackend", "切换状态"), self.client.set_status(Status(status)))

    def open_conversation(self, conversation: str) -> None:
        async def run() -> None:
            history = await self.client.open(conversation)
            self.state.load_history(conversation, history.messages)
            self.state.mark_read(conversation)

        self._spawn(QCoreApplication.translate("ClientBackend", "打开会话"), run())

    def reply(self, conversation: str, text: str, client_id: str) -> None:
        # The outbox keeps it (on disk) until the server acknowledges it, across reconnects.
        async def run() -> None:
            await self.client.queue_reply(conversation, text, client_id=client_id)

        self._spawn(QCoreApplication.translate("ClientBackend", "发送"), run())

    def send_image(self, conversation: str, data: bytes, client_id: str) -> None:
        """Issue 13: into the outbox like a reply (its bytes on disk), sent when the connection
        allows; a refusal shows on the bubble (through ``reply_outcomes``), which a click sends
        again with the same client_id (the server stores it once)."""
        async def run() -> None:
            try:
                await self.client.queue_image(conversation, data, client_id=client_id)
            except (ClientError, OSError) as exc:
                reason = error_text(exc)
                self.state.reply_failed(client_id, reason)
                self.state.report_error(QCoreApplication.translate("ClientBackend", "图片未能发送：") + reason)

        self._spawn(QCoreApplication.translate("ClientBackend", "发送图片"), run())

    def fetch_image(self, conversation: str, sha256: str, thumb: bool) -> None:
        async def run() -> None:
            try:
                data = await self.client.fetch_image(conversation, sha256, thumb=thumb)
            except (ClientError, NotConnected) as exc:
                self.state.image_unavailable(sha256, thumb, error_text(exc))
                return
            self.state.set_image(sha256, thumb, data)

        self._spawn(QCoreApplication.translate("ClientBackend", "载入图片"), run())

    def close(self, conversation: str) -> None:
        self._spawn(QCoreApplication.translate("ClientBackend", "结束会话"), self.client.close_conversation(conversation))

    def clear_section(self, section: Section) -> None:
        self._spawn(QCoreApplication.translate("ClientBackend", "清扫"), self.client.clear(section))

    def claim(self, conversation: str) -> None:
        self._spawn(QCoreApplication.translate("ClientBackend", "接入"), self.client.claim(conversation))

    def request_kpis(self) -> None:
        async def run() -> None:
            await self.client.get_kpis()  # the client keeps the answer in its view
            self.state.kpis_updated.emit(self.state.kpis)

        self._spawn(QCoreApplication.translate("ClientBackend", "刷新数据"), run())

    def filter_buyers(self, tile: str) -> None:
        async def run() -> None:
            self.state.set_filter(tile, await self.client.filter_buyers(BuyerTile(tile)))

        self._spawn(QCoreApplication.translate("ClientBackend", "筛选"), run())

    def why(self, conversation: str) -> None:
        async def run() -> None:
            decisions = await self.client.why(conversation)
            self.state.set_decisions(conversation, decisions_from_protocol(decisions))

        self._spawn(QCoreApplication.translate("ClientBackend", "分配原因"), run())

    def transfer(self, conversation: str, agent: str | None = None, group: str | None = None,
                 note: str = "") -> None:
        async def run() -> None:
            try:
                await self.client.transfer(conversation, agent, group=group, note=note)
            except ClientError as exc:
                log.info("transfer refused: %s", exc)
                self.state.report_error(QCoreApplication.translate("ClientBackend", "转接未完成：")
                                        + transfer_error_text(exc))

        self._spawn(QCoreApplication.translate("ClientBackend", "转接"), run())

    def get_colleagues(self) -> None:
        async def run() -> None:
            self.state.set_colleagues(targets_from_protocol(await self.client.colleagues()))

        self._spawn(QCoreApplication.translate("ClientBackend", "读取同事列表"), run())

    def get_team(self) -> None:
        async def run() -> None:
            await self.client.get_team()  # the client keeps the answer in its view, where the state reads it
            self.state.team_answered()

        self._spawn(QCoreApplication.translate("ClientBackend", "团队数据"), run())

    def get_panel(self, conversation: str) -> None:
        async def run() -> None:
            self.state.set_panel(await self.client.get_panel(conversation))

        self._spawn(QCoreApplication.translate("ClientBackend", "买家信息"), run())

    def get_session(self, conversation: str, session: int) -> None:
        async def run() -> None:
            answer = await self.client.get_session(conversation, session)
            self.state.set_session(conversation, answer.session, answer.messages)

        self._spawn(QCoreApplication.translate("ClientBackend", "历史会话"), run())

    def send_card(self, conversation: str, card: str, ref: str) -> None:
        # Not through the outbox: the card comes back as a ``message`` event once committed, and a
        # refusal (no such product, not this buyer's order, 催付 on a paid order) is reported.
        self._spawn(QCoreApplication.translate("ClientBackend", "发送卡片"),
                    _done(self.client.send_card(conversation, CardKind(card), ref)))

    def search_catalog(self, query: str) -> None:
        async def run() -> None:
            self.state.set_catalog(query, await self.client.search_catalog(query))

        self._spawn(QCoreApplication.translate("ClientBackend", "搜索商品"), run())

    def add_note(self, conversation: str, text: str) -> None:
        self._spawn(QCoreApplication.translate("ClientBackend", "添加备注"), self.client.add_note(conversation, text))

    def remove_note(self, conversation: str, note: int) -> None:
        self._spawn(QCoreApplication.translate("ClientBackend", "删除备注"),
                    self.client.remove_note(conversation, note))

    def add_tag(self, conversation: str, tag: str) -> None:
        self._spawn(QCoreApplication.translate("ClientBackend", "添加标签"), self.client.add_tag(conversation, tag))

    def remove_tag(self, conversation: str, tag: str) -> None:
        self._spawn(QCoreApplication.translate("ClientBackend", "删除标签"), self.client.remove_tag(conversation, tag))
    def queue_buyers(self, pool: str) -> None:
        async def run() -> None:
            self.state.set_queue(pool, await self.client.queue_buyers(pool))

        self._spawn(QCoreApplication.translate("ClientBackend", "排队买家"), run())

    def agent_conversations(self, agent: str) -> None:
        async def run() -> None:
            self.state.set_agent_conversations(agent, await self.client.agent_conversations(agent))

        self._spawn(QCoreApplication.translate("ClientBackend", "客服会话"), run())

    def monitor(self, conversation: str) -> None:
        """A supervisor reads a conversation (the open path, which supervisors may use on any)."""
        async def run() -> None:
            history = await self.client.open(conversation)
            self.state.load_history(conversation, history.messages)

        self._spawn(QCoreApplication.translate("ClientBackend", "查看会话"), run())

    def day_report(self, day: str | None = None) -> None:
        async def run() -> None:
            self.state.set_report(await self.client.day_report(day or None))

        self._spawn(QCoreApplication.translate("ClientBackend", "导出报表"), run())

    def audit(self, after: int | None = None) -> None:
        async def run() -> None:
            self.state.set_audit(await self.client.audit(after=after))

        self._spawn(QCoreApplication.translate("ClientBackend", "审计日志"), run())

    def day_charts(self) -> None:
        async def run() -> None:
            answer = await self.client.day_charts()
            self.state.set_day_charts(answer.day, answer.charts)

        self._spawn(QCoreApplication.translate("ClientBackend", "今日图表"), run())

    def get_policy(self) -> None:
        async def run() -> None:
            self.state.set_policy((await self.client.policy()).toml)

        self._spawn(QCoreApplication.translate("ClientBackend", "读取策略"), run())

    def whatif_start(self, toml: str) -> None:
        async def run() -> None:
            try:
                started = await self.client.whatif_start(toml)
            except ClientError as exc:  # a bad policy, another run going: said beside the editor
                said = error_text(exc)
                if exc.code is ErrorCode.BAD_POLICY:  # where in the text: the server's key path and words
                    said += f"：{exc.field + ' ' if exc.field else ''}{exc.message}"
                self.state.whatif_refused.emit(said)
                return
            self.state.whatif_started.emit(started.run)

        self._spawn(QCoreApplication.translate("ClientBackend", "试运行"), run())

    def whatif_cancel(self, run_id: str) -> None:
        self._spawn(QCoreApplication.translate("ClientBackend", "取消试运行"), self.client.whatif_cancel(run_id))

    def apply_policy(self, toml: str) -> None:
        async def run() -> None:
            await self.client.apply_policy(toml)
            self.state.policy_applied.emit()

        self._spawn(QCoreApplication.translate("ClientBackend", "应用策略"), run())

    # -- from the client -----------------------------------------------------------------------

    def _on_client_event(self, event: AgentEvent) -> None:
        """The client has folded ``event`` into its view (the state's ``view``): the state says
        what changed, reading the view (issue 9: each event folded once)."""
        self.state.follow(event)

    def _on_client_state_changed(self, change: StateChange) -> None:
        moves = self.client.moves  # sent to the shop's owner by another server (issue 15): said in the status bar
        served_at = urlsplit(moves.current).netloc if change.state is ConnectionState.ONLINE and moves.moved else ""
        self.state.set_connection(_CONNECTION[change.state], served_at)
        if change.state is ConnectionState.OFFLINE and change.error:
            log.info("offline: %s", change.error)
            if self.client.refused_move is not None:  # a downgrade to ws, or a loop (issue 15)
                self.state.report_error(QCoreApplication.translate(
                    "ClientBackend", "服务器要把连接转到未加密的地址，或在几台服务器间来回转，已拒绝：请联系管理员"))
                return
            self.state.report_error(QCoreApplication.translate(
                "ClientBackend", "与服务器的连接已停止（登录已失效或服务器拒绝），请重新登录"))

    def _on_client_reply_outcome(self, outcome: ReplyOutcome) -> None:
        if outcome.error is not None:
            log.info("reply %s refused: %s", outcome.entry.client_id, outcome.error)
            reason = error_text(outcome.error)
            self.state.reply_failed(outcome.entry.client_id, reason)
            what = QCoreApplication.translate("ClientBackend", "图片未能发送：") if outcome.entry.image is not None \
                else QCoreApplication.translate("ClientBackend", "回复未能发送：")
            self.state.report_error(what + reason)
