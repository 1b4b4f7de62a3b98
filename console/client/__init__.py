"""The asyncio client of the Fenliu protocol (no Qt): agents' consoles and the buyer side.

``AgentClient`` keeps a console connected, resumed and its replies safe in an outbox;
``BuyerClient`` speaks for one buyer. Both raise ``ClientError`` with the server's ``ErrorCode``.
"""

from __future__ import annotations

from console.client.agent import AgentClient, ConnectionState, ReplyOutcome, StateChange, new_client_id
from console.client.backoff import Backoff
from console.client.buyer import BuyerClient, BuyerPushed
from console.client.errors import ClientError, ConnectionLost, NotConnected, RequestTimeout
from console.client.observers import EventStream, Observers
from console.client.outbox import Delivery, Outbox, OutboxEntry, OutboxItem
from console.client.view import AgentView

__all__ = [
    "AgentClient",
    "AgentView",
    "Backoff",
    "BuyerClient",
    "BuyerPushed",
    "ClientError",
    "ConnectionLost",
    "ConnectionState",
    "Delivery",
    "EventStream",
    "NotConnected",
    "Observers",
    "Outbox",
    "OutboxEntry",
    "OutboxItem",
    "ReplyOutcome",
    "RequestTimeout",
    "StateChange",
    "new_client_id",
]
