"""The SQL of a PostgreSQL shop's images (issue 15): the ``images`` table (cleaned bytes and
thumbnail by SHA-256). Checking and cleaning an upload is ``console.server.images``'s."""

from __future__ import annotations

import sqlite3

from console.server.store import Store


def save_image(store: Store, sha256: str, data: bytes, thumb: bytes, at: float) -> None:
    """Keep an image's row (an image already kept stays as it is)."""
    store.execute("INSERT OR IGNORE INTO images (sha256, data, thumb, at) VALUES (?, ?, ?, ?)",
                  (sha256, data, thumb, at))


def remove_unshown_images(store: Store, before: float) -> int:
    """Delete the rows of images no message shows, kept before ``before``; how many went."""
    cursor = store.execute(
        "DELETE FROM images WHERE at < ? AND NOT EXISTS (SELECT 1 FROM messages WHERE kind = 'image'"
        " AND json_extract(body, '$.sha256') = images.sha256)", (before,))
    return max(0, int(cursor.rowcount))


def read_image(store: Store, sha256: str, offset: int, length: int, *, thumb: bool) -> tuple[bytes, int] | None:
    """``length`` bytes from ``offset`` of the image (or its thumbnail), and its whole size; None if absent.
    Only that part leaves the database (the columns are stored uncompressed)."""
    column = "thumb" if thumb else "data"
    row = store.one(f"SELECT substr({column}, ?, ?), length({column}) FROM images WHERE sha256 = ?",
                    (offset + 1, length, sha256))
    return None if row is None else (bytes(row[0]), int(row[1]))


def shown_image_hashes(db: sqlite3.Connection) -> list[str]:
    """The SHA-256 of every image a message of that database shows (a backup's check, on its copy)."""
    return [str(r[0]) for r in db.execute(
        "SELECT DISTINCT json_extract(body, '$.sha256') FROM messages WHERE kind = 'image'")]
