"""The upstream link: follow an upstream source system (pull its notices for this province, adopt
them, follow their updates and cancellations) and push statistics to it; and, on an instance that
others follow, serve them notices and receive their signed reports."""

from backend.upstream.follow import pull
from backend.upstream.reports import push as push_reports

__all__ = ["pull", "push_reports"]
