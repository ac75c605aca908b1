"""What one batch has sent, written to the ledger in bulk, a window at a time.

A batch holds the subscribers it claimed in a queue and hands them out SEND_WINDOW at a
time. Before each window it writes the last window's results in a few statements, drops
subscribers who left meanwhile, and notices when the issue stopped sending. It decides
nothing: loop.py reads what it counted and decides.
"""

from __future__ import annotations

import smtplib
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql

from newsletter import mailer
from newsletter.extensions import db
from newsletter.models import BatchClaim, Delivery, Issue, utcnow
from newsletter.sending import retries
from newsletter.sending.claims import Autocommit, Statement, commit_if_begun
from newsletter.statuses import DeliveryStatus, IssueStatus
from newsletter.text import storable

# The two statements of every window, built once: Core, not ORM, as they run so often.
_deliveries, _issues, _claims = Delivery.__table__, Issue.__table__, BatchClaim.__table__


def _window_statements(dialect: str) -> tuple[sa.Update, sa.Select]:
    """Marking a window sent, and which of the next are still wanted. On PostgreSQL the ids
    go as one array, so the SQL text is the same whatever their number: rendered once, and
    prepared by the server."""
    if dialect == "postgresql":
        array = postgresql.ARRAY(sa.Integer)
        # Each sent row with its Message-ID: two arrays side by side.
        sent = (
            sa.func.unnest(
                sa.bindparam("ids", type_=array),
                sa.bindparam("message_ids", type_=postgresql.ARRAY(sa.String)),
            )
            .table_valued(sa.column("id", sa.Integer), sa.column("message_id", sa.String))
            .render_derived(name="sent_now")
        )
        sent_id, message_id = sent.c.id, sent.c.message_id
        ids = None
    else:  # one row per parameter set
        sent_id, message_id = sa.bindparam("sent_id"), sa.bindparam("message_id")
        ids = _deliveries.c.id.in_(sa.bindparam("ids", expanding=True))
    mark_sent = (
        sa.update(_deliveries)
        .where(_deliveries.c.id == sent_id)
        .values(
            status=DeliveryStatus.SENT,
            sent_at=sa.bindparam("now"),
            attempts=_deliveries.c.attempts + 1,
            last_error=None,
            retry_at=None,
            message_id=message_id,
        )
    )
    still_wanted = (
        sa.select(_deliveries.c.id)
        .join(_issues, _issues.c.id == _deliveries.c.issue_id)
        .where(
            _deliveries.c.id == sa.any_(sa.bindparam("next", type_=array))
            if dialect == "postgresql"
            else ids,
            # the batch still holds its range (the sweeper takes a dead batch's)
            sa.exists().where(_claims.c.token == sa.bindparam("claim")),
            _deliveries.c.status == DeliveryStatus.PENDING,
            _issues.c.status == IssueStatus.SENDING,
        )
    )
    return mark_sent, still_wanted


def _window_step(mark_sent: sa.Update, still_wanted: sa.Select) -> sa.Select:
    """PostgreSQL's one round trip a window: the last window marked sent, the next one's
    wanted ids as an array, and a commit that need not wait for the disk."""
    rows = still_wanted.subquery()
    wanted = sa.select(sa.func.array_agg(rows.c.id))
    return sa.select(
        sa.func.set_config("synchronous_commit", "off", True), wanted.scalar_subquery()
    ).add_cte(mark_sent.cte("sent"))


_STATEMENTS = {dialect: _window_statements(dialect) for dialect in ("postgresql", "sqlite")}
_STEP = Statement(_window_step(*_STATEMENTS["postgresql"]))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _statements() -> tuple[sa.Update, sa.Select]:
    return _STATEMENTS[_dialect()]


@dataclass
class BatchOutcome:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    stopped: str | None = None  # why the batch stopped early: paused, cancelled, throttled
    # Seconds until the issue has subscribers no batch holds (0: now); None: it has none.
    next_in: float | None = None
    last: int = 0  # the highest subscriber id this batch claimed: where the next starts
    sent_now: list[int] = field(default_factory=list, repr=False)
    failures: list[dict] = field(default_factory=list, repr=False)
    # Copies failed for good by a refusal of RCPT TO: (delivery id, code, the server's
    # words), for the bounce rules to judge the address by.
    refused: list[tuple[int, int, str]] = field(default_factory=list, repr=False)
    errors_in_a_row: int = 0
    any_success: bool = False


class BatchRecord:
    def __init__(
        self,
        issue_id: int,
        token: str,
        subscribers: list,
        steps: Autocommit,
    ):
        config = current_app.config
        self.steps = steps  # where each window's step runs
        # Each built copy's Message-ID, by delivery: what its row keeps once sent.
        self.message_ids: dict[int, str] = {}
        self.issue_id = issue_id
        self.token = token
        self.queue = deque(subscribers)
        # A window goes over one SMTP session, whatever the cap on what one may carry.
        self.window = min(config["SEND_WINDOW"], config["SMTP_MESSAGES_PER_CONNECTION"])
        self.max_attempts = config["MAX_ATTEMPTS"]
        self.outcome = BatchOutcome()
        self.touched = 0.0

    def sent(self, delivery_id: int) -> None:
        self.outcome.sent += 1
        self.outcome.sent_now.append(delivery_id)
        self.outcome.errors_in_a_row = 0
        self.outcome.any_success = True

    def refused(self, delivery_id: int, attempts: int, error: smtplib.SMTPException) -> None:
        code, text = mailer.reply_of(error)
        said = mailer.text_of(text)
        permanent = mailer.refused_for_good(error)
        final = self.failure(delivery_id, attempts, f"{code} {said}", permanent)
        if final and isinstance(error, smtplib.SMTPRecipientsRefused):
            # Judged for what it says of the address once the copy is given up, whatever
            # its status said at first ("550 5.7.1 No such user!" waited out its attempts).
            self.outcome.refused.append((delivery_id, code, said))

    def failure(self, delivery_id: int, attempts: int, reason: str, permanent: bool) -> bool:
        """5xx fails at once; 4xx and lost connections wait and retry until attempts run out.
        True when the copy failed for good."""
        attempts += 1
        # The server's words, as the database can keep them.
        row = {"id": delivery_id, "attempts": attempts, "last_error": storable(reason)[:1000]}
        final = permanent or attempts >= self.max_attempts
        if final:
            self.outcome.failed += 1
            row.update(status=DeliveryStatus.FAILED, retry_at=None)
        else:
            self.outcome.deferred += 1
            delay = retries.backoff(attempts - 1)
            row.update(status=DeliveryStatus.PENDING, retry_at=utcnow() + timedelta(seconds=delay))
        self.outcome.failures.append(row)
        self.outcome.errors_in_a_row += 1
        return final

    def write(self, final: bool = True) -> int | None:
        """Write the results so far (not committed); returns the issue's failed sends in a
        row when the issue row was written: on errors, else once a second, as every
        worker shares it. Unless `final`, PostgreSQL marks the sent rows with the next
        window's check (next_window), in the same round trip."""
        outcome = self.outcome
        write_issue = outcome.errors_in_a_row or time.monotonic() - self.touched >= 1
        mark_now = outcome.sent_now and (final or _dialect() != "postgresql")
        if outcome.failures or mark_now or write_issue:
            _relaxed_commit()
        if mark_now:
            self._mark_sent()
        if outcome.failures:
            db.session.execute(sa.update(Delivery), outcome.failures)
            outcome.failures.clear()
        return self.write_issue() if write_issue else None

    def _mark_sent(self) -> None:
        mark_sent, _ = _statements()
        values = self._sent_values()
        if _dialect() != "postgresql":  # a parameter set a row
            values = [
                {"sent_id": sent_id, "message_id": message_id, "now": values["now"]}
                for sent_id, message_id in zip(values["ids"], values["message_ids"], strict=True)
            ]
        db.session.connection().execute(mark_sent, values)
        self.outcome.sent_now.clear()

    def _sent_values(self) -> dict:
        ids = self.outcome.sent_now
        message_ids = [self.message_ids[delivery_id] for delivery_id in ids]
        return {"ids": ids, "message_ids": message_ids, "now": utcnow()}

    def write_issue(self) -> int:
        outcome = self.outcome
        total = count_errors(
            self.issue_id, outcome.errors_in_a_row, outcome.any_success, progress_at=utcnow()
        )
        self.touched = time.monotonic()
        outcome.errors_in_a_row = 0
        outcome.any_success = False
        return total

    def next_window(self) -> list:
        """The queue's head less subscribers who left meanwhile; nothing once the issue is
        no longer sending (`outcome.stopped` says what it became). Commits."""
        window = [self.queue.popleft() for _ in range(min(self.window, len(self.queue)))]
        wanted = set()
        if window and not self.outcome.stopped:
            wanted = self._still_wanted([row.delivery_id for row in window])
            if not wanted and (status := issue_status(self.issue_id)) != IssueStatus.SENDING:
                self.outcome.stopped = status
        commit_if_begun()
        return [row for row in window if row.delivery_id in wanted]

    def _still_wanted(self, ids: list[int]) -> set[int]:
        """Which of `ids` this batch still holds for a sending issue. On PostgreSQL the
        last window is marked sent in the same statement, which commits itself (after what
        the session held)."""
        if _dialect() != "postgresql":
            if self.outcome.sent_now:
                self._mark_sent()
            _, still_wanted = _statements()
            return set(db.session.scalars(still_wanted, {"ids": ids, "claim": self.token}))
        values = {**self._sent_values(), "next": ids, "claim": self.token}
        # psycopg runs it as it is: the time goes as the naive UTC the column keeps, the ids
        # as array literals (psycopg dumps a list element by element, in Python).
        values["now"] = values["now"].replace(tzinfo=None)
        values["ids"], values["next"] = _array(values["ids"]), _array(ids)
        values["message_ids"] = _array(map(_quoted, values["message_ids"]))
        [(_, wanted)] = self.steps.run(_STEP, **values)
        self.outcome.sent_now.clear()
        return set(wanted or ())

    def put_back(self, rows: list) -> None:
        self.queue.extendleft(reversed(rows))

    def last_error(self) -> str:
        return (
            db.session.scalar(
                sa.select(Delivery.last_error)
                .where(Delivery.issue_id == self.issue_id, Delivery.last_error.is_not(None))
                .order_by(Delivery.id.desc())
                .limit(1)
            )
            or "the SMTP server could not be reached"
        )


def _array(items: Iterable) -> str:
    """PostgreSQL's literal of an array of integers (or of strings _quoted)."""
    return "{" + ",".join(map(str, items)) + "}"


def _quoted(text: str) -> str:
    """A string as an element of an array literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def issue_status(issue_id: int) -> str:
    return db.session.scalar(sa.select(_issues.c.status).where(_issues.c.id == issue_id))


def _relaxed_commit() -> None:
    """Bookkeeping commits need not wait for the disk: a worker killed mid-batch loses
    nothing by it, and a database crash at worst repeats the last moment's messages."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))


def count_errors(issue_id: int, errors: int, after_success: bool = False, **values) -> int:
    """Add to the issue's failed sends in a row (counting afresh after a success), shared
    by every worker; returns the new count. Not committed."""
    streak = errors if after_success else _issues.c.error_streak + errors
    return db.session.execute(
        sa.update(_issues)
        .where(_issues.c.id == issue_id)
        .values(error_streak=streak, **values)
        .returning(_issues.c.error_streak)
    ).scalar_one()
