"""Indexes for the citizen feed: no new columns.

* ``notice_feed_by_id``: for each candidate notice (found through its targets), whether it is
  published and when, its validity and category — the page's ids come from this index alone.
* ``notice_published_until``: the next published notice to expire (part of the feed's ETag).
* ``change_area_path_seq``: the highest change sequence per area path, one index probe each
  (the rest of the ETag).
* ``notice_target_path_notice``: which notices target an area, without visiting the table.
"""

_FEED_BY_ID = (
    'CREATE INDEX notice_feed_by_id ON "notice" ("id", "published_at", "valid_until", "category", "priority") '
    "WHERE \"status\" = 'published'"
)
_PUBLISHED_UNTIL = (
    'CREATE INDEX notice_published_until ON "notice" ("valid_until") WHERE "status" = \'published\''
)

SQLITE = [
    _FEED_BY_ID,
    _PUBLISHED_UNTIL,
    'CREATE INDEX change_area_path_seq ON "change_area" ("area_path", "seq")',
    'CREATE INDEX notice_target_path_notice ON "notice_target" ("area_path", "notice")',
]
POSTGRES = [
    _FEED_BY_ID,
    _PUBLISHED_UNTIL,
    # varchar_pattern_ops serves both equality and LIKE 'prefix%' whatever the database collation.
    'CREATE INDEX change_area_path_seq ON "change_area" ("area_path" varchar_pattern_ops, "seq")',
    'CREATE INDEX notice_target_path_notice ON "notice_target" ("area_path" varchar_pattern_ops, "notice")',
]
