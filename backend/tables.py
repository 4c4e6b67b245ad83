"""Every table of the application, in dependency order (parents before children)."""

from piccolo.table import Table

from backend.broadcast.cap.tables import CapMessage
from backend.broadcast.tables import (
    CompiledPlan,
    Emergency,
    Manifest,
    Media,
    PlannedSession,
    PlayRecord,
    ProgrammeItem,
    ScheduleVersion,
    Station,
    StationGroup,
)
from backend.citizen.feed.tables import ReadReceipt
from backend.citizen.feedback.tables import Feedback, FeedbackEvent, FeedbackMedia, Open311ApiKey
from backend.citizen.push.tables import PushDelivery, PushRegistration
from backend.citizen.sms.tables import SmsDelivery, SmsSubscription
from backend.citizen.subscriptions.tables import Subscription
from backend.core.accounts.tables import Account, RefreshToken, RoleGrant
from backend.core.areas.tables import Area
from backend.core.audit.tables import AuditEntry
from backend.core.categories.tables import Category
from backend.core.changes.tables import ChangeArea, ChangeCounter, ChangeLog
from backend.core.notices.tables import Notice, NoticeTarget
from backend.core.outbox.tables import OutboxMessage
from backend.devices.proof.tables import ManifestAck
from backend.devices.tables import (
    Device,
    DeviceAlarm,
    DeviceClaim,
    DeviceCommand,
    DeviceCredential,
    DeviceStateChange,
)
from backend.officials.console.tables import ConsoleSession
from backend.officials.feedback.tables import (
    AnswerTemplate,
    FeedbackAlert,
    FeedbackFollower,
    FeedbackHandling,
    FeedbackSla,
    HandlingUnit,
    Holiday,
    RoutingRule,
)
from backend.officials.inbox.tables import StaffNotification
from backend.sync.tables import (
    SyncBlob,
    SyncConflict,
    SyncDevice,
    SyncMutation,
    SyncOrigin,
    SyncScope,
    SyncState,
    SyncWire,
)
from backend.training.tables import (
    TrainingCompletion,
    TrainingMaterial,
    TrainingTopic,
    TrainingVersion,
)
from backend.upstream.tables import (
    DownstreamReport,
    DownstreamSystem,
    UpstreamLink,
    UpstreamNotice,
    UpstreamReport,
)

ALL_TABLES: list[type[Table]] = [
    Area,
    Account,
    RoleGrant,
    RefreshToken,
    Category,
    Notice,
    NoticeTarget,
    AuditEntry,
    OutboxMessage,
    ChangeCounter,
    ChangeLog,
    ChangeArea,
    Subscription,
    ReadReceipt,
    Feedback,
    FeedbackMedia,
    FeedbackEvent,
    Open311ApiKey,
    HandlingUnit,
    RoutingRule,
    Holiday,
    FeedbackSla,
    FeedbackHandling,
    FeedbackFollower,
    FeedbackAlert,
    AnswerTemplate,
    PushRegistration,
    PushDelivery,
    CapMessage,
    ConsoleSession,
    Station,
    StationGroup,
    ScheduleVersion,
    ProgrammeItem,
    PlannedSession,
    Manifest,
    Media,
    PlayRecord,
    Emergency,
    CompiledPlan,
    SyncState,
    SyncDevice,
    SyncMutation,
    SyncOrigin,
    SyncConflict,
    SyncScope,
    SyncBlob,
    SyncWire,
    SmsSubscription,
    SmsDelivery,
    UpstreamNotice,
    UpstreamLink,
    UpstreamReport,
    DownstreamSystem,
    DownstreamReport,
    TrainingTopic,
    TrainingMaterial,
    TrainingVersion,
    TrainingCompletion,
    Device,
    DeviceCredential,
    DeviceClaim,
    DeviceStateChange,
    DeviceAlarm,
    DeviceCommand,
    StaffNotification,
    ManifestAck,
]
