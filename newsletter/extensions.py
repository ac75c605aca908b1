"""Extensions created once and bound to the app in create_app."""

import ipaddress

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()


def network(address: str | None) -> str:
    """A client as rate limits count it: its IPv4 address, or its IPv6 address's /64, all of
    which one home or phone line holds (per address, each gave five more guesses)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or ""
    if ip.version == 6 and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(getattr(ip, "ipv4_mapped", None) or ip)


limiter = Limiter(key_func=lambda: network(get_remote_address()), default_limits=[])


def insert_or(model):
    """An INSERT that takes ON CONFLICT clauses, in the dialect of the database in use."""
    return (postgresql if db.engine.dialect.name == "postgresql" else sqlite).insert(model)


def writer_first(model, row_id: int) -> None:
    """Before a SELECT ... FOR UPDATE of one row that decides what to write. SQLite has no
    row locks and ignores FOR UPDATE: two reports read the same row and both decided (a
    domain held twice, the editors told twice). An update that changes nothing takes its
    write lock first, so the second waits for the first's commit and reads what it decided."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(update(model).where(model.id == row_id).values(id=model.id))
