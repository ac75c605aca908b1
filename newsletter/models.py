"""The nouns of the product (see ARCHITECTURE.md) as SQLAlchemy 2 typed models."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsletter.extensions import db
from newsletter.statuses import (
    Calendar,
    DeliveryMode,
    DeliveryStatus,
    HeldStatus,
    ImportStatus,
    IssueKind,
    IssueStatus,
    SubscriberStatus,
    SubscriptionStatus,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator):
    """Stores naive UTC and hands back aware UTC, the same on SQLite and PostgreSQL."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class MailingList(db.Model):
    __tablename__ = "mailing_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    from_email: Mapped[str] = mapped_column(sa.String(254))
    from_name: Mapped[str] = mapped_column(sa.String(200), default="")
    reply_to: Mapped[str | None] = mapped_column(sa.String(254))
    opt_in: Mapped[str] = mapped_column(sa.String(10), default="double")
    public: Mapped[bool] = mapped_column(default=True)
    send_weekday: Mapped[int] = mapped_column(default=4)  # Monday is 0
    send_time: Mapped[str] = mapped_column(sa.String(5), default="09:00")
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    language: Mapped[str] = mapped_column(sa.String(16), default="en")
    direction: Mapped[str] = mapped_column(sa.String(3), default="ltr")
    # How subscriber-facing dates are written: Gregorian, or Solar Hijri for a Persian list.
    calendar: Mapped[str] = mapped_column(
        sa.String(10), default=Calendar.GREGORIAN, server_default=Calendar.GREGORIAN
    )
    # Each post may go out on its own, this many minutes after it is first seen (so that a
    # post still being edited is not sent half-finished), to subscriptions that want it.
    each_post: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    each_post_hold: Mapped[int] = mapped_column(default=30, server_default="30")
    # Posts first seen before each-post sending was turned on are not sent on their own.
    each_post_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the embed form on the organisation's site may send people back to: URL
    # prefixes, one a line.
    embed_return_urls: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    footer: Mapped[str] = mapped_column(sa.Text, default="")
    postal_address: Mapped[str] = mapped_column(sa.Text, default="")
    # Autopilot composes a draft each week before the send time; with autopilot_send it is
    # scheduled without review. autopilot_at is the last weekly slot already handled, and
    # autopilot_week the Monday of its week in the list's zone then, which decides: a slot
    # or zone moved later in that week is not a second slot.
    autopilot: Mapped[bool] = mapped_column(default=False)
    autopilot_send: Mapped[bool] = mapped_column(default=False)
    autopilot_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    autopilot_week: Mapped[date | None] = mapped_column(sa.Date)
    # Analytics: clicks are counted per issue and link (through /r/), opens only when asked
    # for, and who clicked what only when the list opts in.
    track_clicks: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    track_opens: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    track_subscribers: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Subscriber(db.Model):
    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[str] = mapped_column(sa.String(12), default=SubscriberStatus.ACTIVE, index=True)
    attributes: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    locale: Mapped[str | None] = mapped_column(sa.String(16))
    # Soft bounces add to the score, which halves every NEWSLETTER_BOUNCE_HALF_LIFE days
    # from bounce_score_at; past NEWSLETTER_BOUNCE_THRESHOLD the subscriber is bounced.
    bounce_score: Mapped[float] = mapped_column(default=0.0, server_default="0")
    bounce_score_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Asked for plain links and no open pixel (preferences).
    no_tracking: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # In the order they were made, wherever they are shown (loaded with a page's readers,
    # a set's order is whatever the database gave).
    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber", cascade="all, delete-orphan", order_by="Subscription.id"
    )


class Subscription(db.Model):
    __tablename__ = "subscriptions"
    __table_args__ = (
        sa.UniqueConstraint("subscriber_id", "list_id"),
        # The dashboard counts each list's confirmed subscribers from the index alone, and
        # its weeks of joins and leaves read the weeks shown, not every subscription.
        sa.Index("ix_subscriptions_list_status", "list_id", "status"),
        sa.Index("ix_subscriptions_confirmed_at", "confirmed_at"),
        sa.Index("ix_subscriptions_unsubscribed_at", "unsubscribed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        sa.ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("mailing_lists.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(12), default=SubscriptionStatus.UNCONFIRMED)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_ip: Mapped[str | None] = mapped_column(sa.String(45))
    consent_source: Mapped[str | None] = mapped_column(sa.String(200))
    consent_user_agent: Mapped[str | None] = mapped_column(sa.String(400))
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribe_reason: Mapped[str | None] = mapped_column(sa.String(200))
    # Raised when the subscriber leaves; a confirmation link carries the version it was sent
    # with, so one sent before then cannot bring them back.
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    delivery: Mapped[str] = mapped_column(
        sa.String(6), default=DeliveryMode.DIGEST, server_default=DeliveryMode.DIGEST
    )

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")
    mailing_list: Mapped[MailingList] = relationship()


class Feed(db.Model):
    __tablename__ = "feeds"
    __table_args__ = (sa.UniqueConstraint("list_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("mailing_lists.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(sa.String(2000))
    title: Mapped[str] = mapped_column(sa.String(300), default="")
    etag: Mapped[str | None] = mapped_column(sa.String(300))
    modified: Mapped[str | None] = mapped_column(sa.String(100))
    last_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Its first fetch that was read: the posts it brought are the site's back catalogue.
    first_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Its schedule (posts/feeds.py): polled once next_fetch_at has passed (None: at once, or
    # never once gone); never before not_before, the site's own Retry-After.
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(default=0, server_default="0")  # in a row
    # Seconds the feed asks between polls (<ttl>, sy:updatePeriod), when more than ours.
    min_interval: Mapped[int | None]
    # Its site answered 410 Gone: kept, and no longer polled until an editor fetches it.
    gone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The editors were told it has not been read for FEED_FAILING_AFTER: once a streak.
    failing_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    mailing_list: Mapped[MailingList] = relationship()


class Post(db.Model):
    __tablename__ = "posts"
    __table_args__ = (sa.UniqueConstraint("list_id", "guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("mailing_lists.id", ondelete="CASCADE"))
    feed_id: Mapped[int | None] = mapped_column(sa.ForeignKey("feeds.id", ondelete="SET NULL"))
    guid: Mapped[str] = mapped_column(sa.String(2000))
    url: Mapped[str] = mapped_column(sa.String(2000))
    title: Mapped[str] = mapped_column(sa.String(500))
    source: Mapped[str] = mapped_column(sa.String(300), default="")
    excerpt: Mapped[str] = mapped_column(sa.Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Why it was not sent on its own to each-post readers (each_post.py), if it was not.
    each_post_skipped: Mapped[str | None] = mapped_column(sa.String(40))

    @property
    def dated_at(self) -> datetime:
        """When the post counts as published: its own date, or when it was first seen."""
        return self.published_at or self.first_seen_at


# Pages of posts, newest first by the day they count as published (the admin's, of a list,
# and the API's, of one list or all): an index walk to the page, not a sort of every post.
sa.Index(
    "ix_posts_list_dated",
    Post.list_id,
    sa.func.coalesce(Post.published_at, Post.first_seen_at),
    Post.id,
)
sa.Index("ix_posts_dated", sa.func.coalesce(Post.published_at, Post.first_seen_at), Post.id)


class Issue(db.Model):
    __tablename__ = "issues"
    # Digests and post issues are numbered apart.
    __table_args__ = (sa.UniqueConstraint("list_id", "kind", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("mailing_lists.id", ondelete="CASCADE"))
    number: Mapped[int]
    subject: Mapped[str] = mapped_column(sa.String(300))
    preheader: Mapped[str] = mapped_column(sa.String(300), default="")
    intro: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(12), default=IssueStatus.DRAFT, index=True)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(
        sa.String(6), default=IssueKind.DIGEST, server_default=IssueKind.DIGEST
    )
    # A post issue's post: each post is sent on its own at most once.
    post_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("posts.id", ondelete="SET NULL"), unique=True
    )
    # Sent at this hour in each subscriber's time zone ("08:00"), on local_date; send_at is
    # then the first zone's moment.
    local_time: Mapped[str | None] = mapped_column(sa.String(5))
    local_date: Mapped[date | None] = mapped_column(sa.Date)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Touched by every batch; a sending issue that stops moving is picked up again.
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed sends in a row across all workers; past a limit the issue pauses itself.
    error_streak: Mapped[int] = mapped_column(default=0, server_default="0")
    pause_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Refusals of mail sent before the last resume led to the pause: they count no more.
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Receiving domains that refused too much of it, each held back for a while while the
    # rest goes on: {domain: {"since", "until" (ISO times), "said", "copies"}}.
    held_domains: Mapped[dict | None] = mapped_column(sa.JSON)
    # Its copies came back as dead addresses en masse (bounces/breaker.py): {"since", "at",
    # "bounces", "copies", "said", "decision": null | "dropped" | "kept"}.
    mass_bounce: Mapped[dict | None] = mapped_column(sa.JSON)
    # The breaker's tally: dead addresses of copies sent since dead_since, the latest of them
    # sent at dead_horizon; the copies are counted again once dead_count reaches dead_need.
    dead_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_count: Mapped[int] = mapped_column(default=0, server_default="0")
    dead_need: Mapped[int] = mapped_column(default=0, server_default="0")
    dead_horizon: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The frozen render, tens of KB: loaded when read, not with every look at the status
    # (a send looks several times a batch; lists of issues never need it).
    html: Mapped[str | None] = mapped_column(sa.Text, deferred=True, deferred_group="render")
    text: Mapped[str | None] = mapped_column(sa.Text, deferred=True, deferred_group="render")
    # The same, frozen for each other language its subscribers read: {locale: [html, text]}.
    renders: Mapped[dict | None] = mapped_column(sa.JSON, deferred=True, deferred_group="render")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An A/B test of subjects (sending/ab.py): this percent of the subscribers gets the
    # variants, the rest waits ab_wait_minutes and gets the winner (an IssueVariant id; no
    # foreign key, which would tie the two tables in a cycle).
    ab_share: Mapped[int | None]
    ab_wait_minutes: Mapped[int | None]
    ab_decide_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ab_winner: Mapped[int | None]
    # Its figures as counted before `newsletter prune --deliveries` deleted its copies and
    # their clicks (figures.py); None while they are counted from those rows.
    figures: Mapped[dict | None] = mapped_column(sa.JSON, deferred=True)
    # Its copies' counts {sent, failed, pending, total} once sent, when they change no more:
    # counted once, not on every look (ledger.keep_final_counts).
    final_counts: Mapped[dict | None] = mapped_column(sa.JSON)

    mailing_list: Mapped[MailingList] = relationship()
    items: Mapped[list[IssueItem]] = relationship(
        order_by="IssueItem.position", cascade="all, delete-orphan"
    )
    variants: Mapped[list[IssueVariant]] = relationship(
        order_by="IssueVariant.position", cascade="all, delete-orphan"
    )

    @property
    def dated(self) -> date | datetime | None:
        """The day its readers see on it: the day it goes out; sent at an hour in each
        reader's zone, that day (the first zone to reach the hour starts the day before)."""
        return self.local_date or self.started_at or self.send_at


class IssueVariant(db.Model):
    """One of the two to four subjects an A/B test tries."""

    __tablename__ = "issue_variants"
    __table_args__ = (sa.UniqueConstraint("issue_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(sa.ForeignKey("issues.id", ondelete="CASCADE"))
    position: Mapped[int]
    subject: Mapped[str] = mapped_column(sa.String(300))


class IssueItem(db.Model):
    """A post as it appears in one issue; editing it leaves the post alone."""

    __tablename__ = "issue_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(sa.ForeignKey("issues.id", ondelete="CASCADE"))
    post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("posts.id", ondelete="SET NULL"))
    position: Mapped[int]
    section: Mapped[str] = mapped_column(sa.String(200), default="")
    title: Mapped[str] = mapped_column(sa.String(500))
    url: Mapped[str] = mapped_column(sa.String(2000))
    source: Mapped[str] = mapped_column(sa.String(300), default="")
    excerpt: Mapped[str] = mapped_column(sa.Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(db.Model):
    __tablename__ = "deliveries"
    __table_args__ = (
        # Led by the subscriber, it also finds a subscriber's deliveries (erasure, bounces).
        sa.UniqueConstraint("subscriber_id", "issue_id", name="uq_deliveries_subscriber_issue"),
        # Batches claim the lowest subscriber ids still pending: an index walk, not a sort.
        sa.Index("ix_deliveries_issue_status_subscriber", "issue_id", "status", "subscriber_id"),
        # Each issue's copies clicked and opened, counted from these alone (the issues'
        # figures); a copy enters one at its first click or open, never while it is sent.
        *(
            sa.Index(
                f"ix_deliveries_{kind}",
                "issue_id",
                f"{kind}_by_machine",
                postgresql_where=sa.text(f"{kind}_at IS NOT NULL"),
                sqlite_where=sa.text(f"{kind}_at IS NOT NULL"),
            )
            for kind in ("clicked", "opened")
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(sa.ForeignKey("issues.id", ondelete="CASCADE"))
    # None once the subscriber is erased: the row stays, naming no one, in the figures.
    subscriber_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscribers.id", ondelete="SET NULL")
    )
    status: Mapped[str] = mapped_column(sa.String(10), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    message_id: Mapped[str | None] = mapped_column(sa.String(300))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A subscriber the server asked us to try later is not claimed again before this; an
    # issue sent at a local hour starts each subscriber's row at their zone's moment.
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # That first moment (the subscriber's wave), kept for the issue's page.
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first click through /r/ and the first open: unique clickers and openers.
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every click (open) of the copy so far looked like a machine's (analytics.likely_machine):
    # a gateway's link scanner, Apple's privacy proxy. A person's click later clears it.
    clicked_by_machine: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    opened_by_machine: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # The A/B variant whose subject this copy had; None for the rest, who get the winner's.
    variant_id: Mapped[int | None]

    subscriber: Mapped[Subscriber | None] = relationship()
    issue: Mapped[Issue] = relationship()


class BatchClaim(db.Model):
    """A batch's hold on a range of an issue's subscribers (by id, both ends included): the
    pending rows in it that were due when it was claimed are the batch's to send. One row a
    batch, not a write to each delivery; ranges of live claims never overlap."""

    __tablename__ = "batch_claims"
    __table_args__ = (sa.Index("ix_batch_claims_issue_low", "issue_id", "low"),)

    token: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    issue_id: Mapped[int] = mapped_column(sa.ForeignKey("issues.id", ondelete="CASCADE"))
    low: Mapped[int]
    high: Mapped[int]
    # Renewed by the batch's lease; a claim older than CLAIM_LEASE is a dead batch's.
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IssueLink(db.Model):
    """A link of a sent issue, by position: /r/<token>/<position> leads only here."""

    __tablename__ = "issue_links"
    __table_args__ = (sa.UniqueConstraint("issue_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(sa.ForeignKey("issues.id", ondelete="CASCADE"))
    position: Mapped[int]
    url: Mapped[str] = mapped_column(sa.String(2000))


class LinkClick(db.Model):
    """One click on a link: when, and who only when the list tracks subscribers."""

    __tablename__ = "link_clicks"
    # Each link's clicks, a machine's said apart, counted from the index alone.
    __table_args__ = (sa.Index("ix_link_clicks_link_machine", "link_id", "likely_machine"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(sa.ForeignKey("issue_links.id", ondelete="CASCADE"))
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    subscriber_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subscribers.id", ondelete="SET NULL"), index=True
    )
    # Counted like any click; said apart in the figures (analytics.likely_machine).
    likely_machine: Mapped[bool] = mapped_column(default=False, server_default=sa.false())


def _delivery_issue(context) -> int | None:
    """A new bounce's issue when it names a delivery and not its issue."""
    delivery_id = context.get_current_parameters().get("delivery_id")
    if delivery_id is None:
        return None
    deliveries = Delivery.__table__
    return context.connection.scalar(
        sa.select(deliveries.c.issue_id).where(deliveries.c.id == delivery_id)
    )


class Bounce(db.Model):
    """A bounce or complaint about one subscriber, and the delivery it came back from."""

    __tablename__ = "bounces"
    __table_args__ = (
        # An issue's dead addresses are counted as they come in (bounces/breaker.py).
        sa.Index("ix_bounces_kind_received", "kind", "received_at"),
        # An issue's bounces by kind and reason, from the index alone.
        sa.Index("ix_bounces_issue_kind_reason", "issue_id", "kind", "reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(  # None once erased, as a delivery's
        sa.ForeignKey("subscribers.id", ondelete="SET NULL"), index=True
    )
    delivery_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("deliveries.id", ondelete="SET NULL"), index=True
    )
    # The delivery's issue, kept on the report so an issue's bounces are found without
    # reading its copies; intake gives it, else it is looked up from the delivery.
    issue_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("issues.id", ondelete="SET NULL"), default=_delivery_issue
    )
    kind: Mapped[str] = mapped_column(sa.String(10))  # hard | soft | sender | complaint
    reason: Mapped[str] = mapped_column(sa.String(32), default="")  # verdict.REASONS
    status: Mapped[str] = mapped_column(sa.String(16), default="")  # RFC 3463, "5.1.1"
    # The receiving side: where refusals of our mail are counted.
    domain: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    detail: Mapped[str] = mapped_column(sa.String(500), default="")
    source: Mapped[str] = mapped_column(sa.String(10), default="smtp")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    delivery: Mapped[Delivery | None] = relationship()


class Suppression(db.Model):
    """An address that never gets mail again, kept as a hash so erasure leaves no address."""

    __tablename__ = "suppressions"

    email_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(sa.String(12))  # bounced|complained|blocklisted|erased
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(300))
    role: Mapped[str] = mapped_column(sa.String(10), default="editor")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's id: raising it (sign-out, a new password) ends them all.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Invitation links sent: each new one ends those before it (one lost, or gone astray).
    invitations: Mapped[int] = mapped_column(default=0, server_default="0")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version}"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class Import(db.Model):
    """A CSV import run by a worker; rejected rows keep their reasons."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(sa.ForeignKey("mailing_lists.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(10), default=ImportStatus.QUEUED)
    preconfirm: Mapped[bool] = mapped_column(default=False)
    # How the file is written (csv_reading.NAMES): as the editor chose, or as found in it.
    encoding: Mapped[str | None] = mapped_column(sa.String(20))
    # The name the file was uploaded as; its bytes wait in import_files (ImportFile).
    path: Mapped[str] = mapped_column(sa.String(500))
    total: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list] = mapped_column(sa.JSON, default=list)
    # Column name in the file → "email", "name", "ignore", or an attribute name.
    mapping: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ImportFile(db.Model):
    """A piece of an uploaded CSV, kept in the database because that is what the web app and
    every worker share; the pieces are deleted once the import has read them."""

    __tablename__ = "import_files"

    import_id: Mapped[int] = mapped_column(
        sa.ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[int] = mapped_column(primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class HeldPost(db.Model):
    """A message sent to a list's posts address: held for an editor, or what became of it."""

    __tablename__ = "held_posts"
    # A message delivered again (a server that missed our answer retries) is the same post.
    __table_args__ = (sa.UniqueConstraint("list_id", "message_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mailing_lists.id", ondelete="CASCADE"), index=True
    )
    sender: Mapped[str] = mapped_column(sa.String(254))
    sender_name: Mapped[str] = mapped_column(sa.String(300), default="")
    subject: Mapped[str] = mapped_column(sa.String(500), default="")
    text: Mapped[str] = mapped_column(sa.Text, default="")
    html_sanitised: Mapped[str] = mapped_column(sa.Text, default="")
    # The first web link of the body, offered as the post's URL.
    link: Mapped[str] = mapped_column(sa.String(2000), default="")
    # Why it was held, and what was taken out (attachments, text over the limit).
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    status: Mapped[str] = mapped_column(sa.String(10), default=HeldStatus.HELD, index=True)
    post_id: Mapped[int | None] = mapped_column(sa.ForeignKey("posts.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A hash of the Message-ID, or of the message's sender, date, subject and text without one.
    message_key: Mapped[str | None] = mapped_column(sa.String(64))

    mailing_list: Mapped[MailingList] = relationship()


class AllowedSender(db.Model):
    """A sender whose aligned mail to a list's posts address becomes a post, like an editor's."""

    __tablename__ = "allowed_senders"

    list_id: Mapped[int] = mapped_column(
        sa.ForeignKey("mailing_lists.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str] = mapped_column(sa.String(254), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Heartbeat(db.Model):
    """When a periodic job last ran (heartbeats.py)."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
