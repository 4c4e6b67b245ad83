"""Handling of citizen feedback by staff.

``feedback_handling`` is 1:1 with ``feedback`` (same id) and holds what handling adds: the unit the
report was routed to (none = triage queue), the assignee, the computed deadlines and the sweep's
flags. Category, effective area path, creation time and a folded search text are copied from the
report (they never change) so the queue is filtered, searched and paged on one indexed table.

Routing rules, units, holidays, per-category deadlines and answer templates are data that an admin
edits. Internal notes are ``feedback_event`` rows with ``public = false``."""

from piccolo.columns import UUID, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from backend.citizen.feedback.tables import Feedback


class HandlingUnit(Table, tablename="handling_unit"):
    """A commune office or a province department; ``supervisor`` is where overdue items escalate."""

    id = UUID(primary_key=True)
    name = Varchar(length=255)
    area_code = Varchar(length=32)
    area_path = Varchar(length=512, index=True)
    supervisor = UUID(null=True, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class RoutingRule(Table, tablename="routing_rule"):
    """category (empty = any) × area subtree → unit. The deepest area wins, then a named category."""

    id = UUID(primary_key=True)
    category = Varchar(length=32, default="")
    area_code = Varchar(length=32)
    area_path = Varchar(length=512)
    unit = ForeignKey(references=HandlingUnit, index=True, on_delete=OnDelete.cascade)
    created_at = Timestamptz(default=TimestamptzNow())


class Holiday(Table, tablename="holiday"):
    day = Varchar(length=10, primary_key=True)  # ISO date, Vietnam time
    name = Varchar(length=255, default="")


class FeedbackSla(Table, tablename="feedback_sla"):
    """Expected handling time in working days; category ``*`` is the default."""

    category = Varchar(length=32, primary_key=True)
    ack_days = Integer(default=1)
    answer_days = Integer(default=10)
    remind_days = Integer(default=1)


class FeedbackHandling(Table, tablename="feedback_handling"):
    id = UUID(primary_key=True)
    feedback = ForeignKey(references=Feedback, unique=True, on_delete=OnDelete.cascade)
    category = Varchar(length=32)
    path = Varchar(length=512)
    created_at = Timestamptz(default=TimestamptzNow())
    search = Text(default="")
    unit = UUID(null=True, default=None)
    triage = Boolean(default=False)
    assignee = UUID(null=True, default=None)
    ack_due = Timestamptz()
    answer_due = Timestamptz()
    remind_at = Timestamptz()
    acknowledged_at = Timestamptz(null=True, default=None)
    overdue = Boolean(default=False)
    reminded_at = Timestamptz(null=True, default=None)
    escalated_at = Timestamptz(null=True, default=None)
    escalated_to = UUID(null=True, default=None)
    duplicate_of = UUID(null=True, default=None)
    possible_duplicate = UUID(null=True, default=None)
    # Set while the report waits for the citizen: the deadline clock stands still until then.
    paused_at = Timestamptz(null=True, default=None)


class FeedbackFollower(Table, tablename="feedback_follower"):
    """Citizens following a report besides its reporter (a merged duplicate's reporter, say)."""

    id = UUID(primary_key=True)
    feedback = ForeignKey(references=Feedback, index=True, on_delete=OnDelete.cascade)
    account = UUID()
    via = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class FeedbackAlert(Table, tablename="feedback_alert"):
    """What the sweep raised: a reminder before the deadline, an overdue flag, an escalation.
    One per (feedback, kind) so a repeated sweep raises nothing twice."""

    id = UUID(primary_key=True)
    feedback = ForeignKey(references=Feedback, index=True, on_delete=OnDelete.cascade)
    kind = Varchar(length=16)
    unit = UUID(null=True, default=None)
    account = UUID(null=True, default=None)
    due = Timestamptz()
    at = Timestamptz(default=TimestamptzNow())
    read_at = Timestamptz(null=True, default=None)


class AnswerTemplate(Table, tablename="answer_template"):
    id = UUID(primary_key=True)
    title = Varchar(length=200)
    text = Text()
    category = Varchar(length=32, default="")
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
