"""The staff inbox holds more than device alarms: each entry says what it is about (``kind``) and,
for a notice the programme moved to a later session or could not place, the notice, the station
and the session."""

_COMMON = [
    'ALTER TABLE "device_staff_notification" ADD COLUMN "kind" VARCHAR(32) NOT NULL DEFAULT \'device_alarm\'',
    'ALTER TABLE "device_staff_notification" ADD COLUMN "notice_id" UUID DEFAULT null',
    'ALTER TABLE "device_staff_notification" ADD COLUMN "station_id" UUID DEFAULT null',
    'ALTER TABLE "device_staff_notification" ADD COLUMN "session_at" TIMESTAMPTZ DEFAULT null',
]
SQLITE = list(_COMMON)
POSTGRES = list(_COMMON)
