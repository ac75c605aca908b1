"""The values of the status and kind columns. They are StrEnums, so a member is equal to its
string, is stored as it, and shows (in templates, JSON, f-strings) as it; the columns stay
strings and rows read back from the database hold plain strings."""

from enum import StrEnum


class IssueStatus(StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    PAUSED = "paused"
    SENT = "sent"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class SubscriptionStatus(StrEnum):
    UNCONFIRMED = "unconfirmed"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"


class SubscriberStatus(StrEnum):
    ACTIVE = "active"
    BLOCKLISTED = "blocklisted"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class ImportStatus(StrEnum):
    STAGED = "staged"  # uploaded, waiting for its column mapping
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BounceKind(StrEnum):
    HARD = "hard"
    SOFT = "soft"
    SENDER = "sender"  # a refusal of our mail, not of the subscriber's address
    COMPLAINT = "complaint"


class DeliveryMode(StrEnum):
    """What a subscription gets: the weekly digest, each post as it comes, or both."""

    DIGEST = "digest"
    EACH = "each"
    BOTH = "both"


class IssueKind(StrEnum):
    DIGEST = "digest"
    POST = "post"  # one post, sent on its own to subscriptions that want each post


class Calendar(StrEnum):
    GREGORIAN = "gregorian"
    PERSIAN = "persian"  # Solar Hijri, as Iran dates things


class HeldStatus(StrEnum):
    """What became of a message sent to a list's posts address."""

    HELD = "held"  # waiting for an editor
    APPROVED = "approved"  # an editor made it a post
    REJECTED = "rejected"
    PUBLISHED = "published"  # a trusted sender's, a post at once


class EachPostSkip(StrEnum):
    """Why a post was not sent on its own to each-post readers: it waits for the digest."""

    FIRST_FETCH = "first fetch"  # its feed's first: the site's back catalogue
    OLD = "old"  # published days before it was first seen (a site's move, a late feed)
    DAY_LIMIT = "day's limit"  # the list sent its day's most posts on their own
