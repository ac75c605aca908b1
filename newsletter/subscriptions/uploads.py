"""Uploaded CSV files, kept in the database in pieces until their import has read them.

The web app and the workers may run on different hosts that share only PostgreSQL and Redis:
a file saved on the web host's disk is one that a worker elsewhere cannot open."""

from __future__ import annotations

import io

import sqlalchemy as sa

from newsletter.extensions import db
from newsletter.models import ImportFile

PIECE = 1024 * 1024  # a row each: a 64 MB upload is 64 rows


def store(import_id: int, stream) -> None:
    """Copy a binary stream into the database, a piece at a time, never whole in memory."""
    part = 0
    piece = stream.read(PIECE)
    while True:
        # Piece 0 is written even for an empty file, which then reads as empty, not as gone.
        db.session.execute(
            sa.insert(ImportFile), {"import_id": import_id, "part": part, "data": piece}
        )
        piece = stream.read(PIECE)
        if not piece:
            return
        part += 1


def read(import_id: int) -> io.BufferedReader:
    """The stored file as a binary stream; FileNotFoundError when nothing is stored."""
    pieces = _Pieces(import_id)
    if pieces.fetch(0) is None:
        raise FileNotFoundError("The uploaded file is no longer stored; upload it again.")
    return io.BufferedReader(pieces, PIECE)


def delete(import_id: int) -> int:
    """The pieces deleted."""
    return db.session.execute(
        sa.delete(ImportFile).where(ImportFile.import_id == import_id)
    ).rowcount


class _Pieces(io.RawIOBase):
    """Reads the pieces in order, one query each, holding one piece in memory."""

    def __init__(self, import_id: int):
        self.import_id = import_id
        self.part = 0
        self.rest = memoryview(b"")

    def fetch(self, part: int) -> bytes | None:
        return db.session.scalar(
            sa.select(ImportFile.data).where(
                ImportFile.import_id == self.import_id, ImportFile.part == part
            )
        )

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.rest:
            piece = self.fetch(self.part)
            if piece is None:
                return 0
            self.rest = memoryview(piece)
            self.part += 1
        count = min(len(buffer), len(self.rest))
        buffer[:count] = self.rest[:count]
        self.rest = self.rest[count:]
        return count
