"""Station schedules, programmes, audio, e-board playlists, signed manifests and CAP.

Exports for the devices stream (and the reports): the group lookup, the manifests a device should
hold, the emergencies in force for an area, and the broadcast log's proof-of-play entry points."""

from backend.broadcast.exports import GroupInfo, active_emergencies, current_manifests, get_group
from backend.broadcast.log.schemas import PlayReport
from backend.broadcast.log.services import broadcast_notices, played_devices, record_play
from backend.broadcast.programme.services import mark_answer_for_radio

__all__ = [
    "GroupInfo",
    "PlayReport",
    "active_emergencies",
    "broadcast_notices",
    "current_manifests",
    "get_group",
    "mark_answer_for_radio",
    "played_devices",
    "record_play",
]
