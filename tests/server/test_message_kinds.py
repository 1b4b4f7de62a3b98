"""Messages have a kind (issue 13): text, image or card, with the payload kept as JSON and the
readable preview in ``text``; a database of schema 5 gains the columns and keeps its messages."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import msgspec
import pytest

from console.protocol import codec
from console.protocol import messages as m
from console.protocol.cards import ProductCard
from console.reception.model import IMAGE_TEXT, Author, ImageRef, Kind, Message, MessageKind
from console.server.conversations import Conversations
from console.server.directory import Directory
from console.server.store import DB_NAME, SCHEMA_VERSION, Store

IMAGE = ImageRef(sha256="ab" * 32, mime="image/png", width=4, height=3, size=99)


def test_kinds_round_trip_through_the_database_and_the_row_preview_is_the_text(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    try:
        Directory(store).greet("b1", "小王")
        rows = Conversations(store)
        row = rows.ensure("b1", "小王", Kind.CONSUMER)
        text = rows.add_message(row, Author.BUYER, "在吗", 1.0, client_id="c1")
        image = rows.add_message(row, Author.BUYER, IMAGE_TEXT, 2.0, client_id="c2",
                                 kind=MessageKind.IMAGE, image=IMAGE)
        assert row.last_text == "[图片]"
        card = rows.add_message(row, Author.AGENT, "[商品] 纯棉T恤", 3.0, agent="a1", client_id="c3",
                                kind=MessageKind.CARD, card=ProductCard(id="p1", title="纯棉T恤"))
        assert row.last_text == "[商品] 纯棉T恤"
        store.flush()
        history, _ = rows.history("b1", 10)
        assert history == [text, image, card]
        assert history[1].image == IMAGE and history[2].card == ProductCard(id="p1", title="纯棉T恤")
        with pytest.raises(ValueError):  # an image message without its image is refused before SQL
            rows.add_message(row, Author.BUYER, IMAGE_TEXT, 4.0, kind=MessageKind.IMAGE)
    finally:
        store.close()


def test_a_message_of_one_kind_with_the_payload_of_another_is_invalid_on_the_wire() -> None:
    good = Message(id=1, conversation="b1", author=Author.BUYER, text=IMAGE_TEXT, at=1.0,
                   kind=MessageKind.IMAGE, image=IMAGE)
    raw = codec.encode(m.MessageAdded(seq=1, message=good))
    assert codec.decode_for_agent(raw) == m.MessageAdded(seq=1, message=good)
    bad = msgspec.json.decode(raw)
    bad["message"]["kind"] = "text"
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(msgspec.json.encode(bad), type=m.MessageAdded)
    with pytest.raises(ValueError):
        m.AgentMessage(id=1, text="x", author=Author.AGENT, at=1.0, kind=MessageKind.CARD)


def test_a_schema_5_database_gains_kinds_and_keeps_its_messages(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / DB_NAME)
    old.executescript("""
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        INSERT INTO schema_version VALUES (5);
        CREATE TABLE buyers (id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, created_at REAL NOT NULL);
        INSERT INTO buyers VALUES ('b1', 'b1', 'consumer', 0);
        CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation TEXT NOT NULL REFERENCES buyers(id),
            author TEXT NOT NULL, text TEXT NOT NULL, at REAL NOT NULL, agent TEXT, client_id TEXT);
        INSERT INTO messages VALUES (7, 'b1', 'buyer', '在吗', 1, NULL, 'c1');
    """)
    old.commit()
    old.close()
    store = Store.open(tmp_path)
    try:
        assert store.one("SELECT version FROM schema_version")["version"] == SCHEMA_VERSION
        assert tuple(store.one("SELECT id, kind, body FROM messages")) == (7, "text", None)
        with pytest.raises(sqlite3.IntegrityError):  # only the three kinds
            store.db.execute("INSERT INTO messages (conversation, author, text, at, kind) VALUES ('b1', 'buyer', 'x', 2, 'video')")
    finally:
        store.close()
