"""The link with an upstream source system, seen from both ends.

Downstream (this instance follows an upstream): ``upstream_notice`` keeps every notice version the
upstream published for this province under the upstream's own ids, thread and version, with the
local notice it was adopted as; ``upstream_link`` keeps the pull cursor and health;
``upstream_report`` keeps each period's signed statistics report until the upstream accepts it.

Upstream (this instance is followed): ``downstream_system`` holds each downstream province's
registered public keys; ``downstream_report`` one report per province and period."""

from piccolo.columns import JSON, UUID, BigInt, BigSerial, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class UpstreamNotice(Table, tablename="upstream_notice"):
    id = UUID(primary_key=True)  # the upstream's notice id
    thread_id = UUID(index=True)
    version = Integer(default=1)
    references_id = UUID(null=True, default=None)
    msg_type = Varchar(length=8, default="alert")
    status = Varchar(length=16)
    category = Varchar(length=32)
    priority = Varchar(length=16)
    texts = JSON(default={})
    attachments = JSON(default=[])
    target_areas = JSON(default=[])
    valid_from = Timestamptz(null=True, default=None)
    valid_until = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    cap_identifier = Varchar(length=128, default="")
    sender = Varchar(length=255, default="")
    upstream_seq = BigInt(default=0)
    adoption = Varchar(length=16, default="")  # "" | adopting | adopted | auto | followed | ignored
    local_notice_id = UUID(null=True, default=None, index=True)
    adopted_by = UUID(null=True, default=None)
    adopted_at = Timestamptz(null=True, default=None)
    received_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class UpstreamLink(Table, tablename="upstream_link"):
    url = Varchar(length=512, primary_key=True)
    cursor = Varchar(length=64, default="0")
    last_attempt_at = Timestamptz(null=True, default=None)
    last_success_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    failures = Integer(default=0)


class UpstreamReport(Table, tablename="upstream_report"):
    period = Varchar(length=16, primary_key=True)  # YYYY-MM-DD, Vietnam time
    period_start = Timestamptz()
    period_end = Timestamptz()
    envelope = Text()
    payload_sha256 = Varchar(length=64)
    status = Varchar(length=12, default="pending", index=True)  # pending | accepted
    attempts = Integer(default=0)
    last_error = Text(default="")
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    accepted_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class DownstreamSystem(Table, tablename="downstream_system"):
    province_code = Varchar(length=32, primary_key=True)
    name = Varchar(length=255, default="")
    keys = JSON(default=[])  # [{"kid", "alg": "Ed25519", "public_key": base64url raw 32 bytes}]
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class DownstreamReport(Table, tablename="downstream_report"):
    id = BigSerial(primary_key=True)
    province_code = Varchar(length=32)
    period = Varchar(length=16)
    generated_at = Timestamptz()
    payload = JSON(default={})
    payload_sha256 = Varchar(length=64)
    kid = Varchar(length=64)
    received_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
