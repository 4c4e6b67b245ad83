"""Citizen feedback (phản ánh, kiến nghị): submission, tracking, and Open311 GeoReport v2.

Categories are the notice categories (``backend/core/categories``): one list of fields of public
life serves both what the authorities announce and what citizens report, so a report and the
notices of its field line up, and admins keep one list."""
