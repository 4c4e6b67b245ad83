"""User-facing text, Vietnamese first.

Every message shown to a person has a key and a Vietnamese text; other languages are optional and
fall back to Vietnamese. Text is kept in Unicode NFC so diacritics compare and sort consistently.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

DEFAULT_LANGUAGE = "vi"

MESSAGES: dict[str, dict[str, str]] = {
    "error.validation": {"vi": "Dữ liệu không hợp lệ.", "en": "The request is not valid."},
    "error.bad_request": {"vi": "Yêu cầu không hợp lệ.", "en": "Bad request."},
    "error.unauthorized": {"vi": "Cần đăng nhập.", "en": "Authentication required."},
    "error.invalid_credentials": {
        "vi": "Tên đăng nhập hoặc mật khẩu không đúng.",
        "en": "Wrong username or password.",
    },
    "error.token_invalid": {
        "vi": "Mã truy cập không hợp lệ hoặc đã hết hạn.",
        "en": "Token invalid or expired.",
    },
    "error.refresh_reused": {
        "vi": "Mã làm mới đã được dùng; mọi phiên liên quan đã bị thu hồi.",
        "en": "Refresh token reused; the whole session family was revoked.",
    },
    "error.forbidden": {"vi": "Bạn không có quyền thực hiện thao tác này.", "en": "You may not do this."},
    "error.out_of_area": {
        "vi": "Thao tác nằm ngoài địa bàn bạn được phân quyền.",
        "en": "This is outside the areas you are responsible for.",
    },
    "error.not_found": {"vi": "Không tìm thấy {what}.", "en": "{what} not found."},
    "error.conflict": {"vi": "Xung đột dữ liệu: {reason}", "en": "Conflict: {reason}"},
    "error.notice_state": {
        "vi": "Bản tin đang ở trạng thái “{state}”, không thể {action}.",
        "en": "The notice is {state}; it cannot be {action}.",
    },
    "error.stale_version": {
        "vi": "Bản tin đã được người khác thay đổi (phiên bản {current}); hãy tải lại.",
        "en": "Someone else changed the notice (now version {current}); reload it.",
    },
    "error.rate_limited": {
        "vi": "Quá nhiều yêu cầu; vui lòng thử lại sau.",
        "en": "Too many requests; try again later.",
    },
    "error.internal": {"vi": "Lỗi hệ thống; đã ghi nhận.", "en": "Internal error; it has been logged."},
    "error.method_not_allowed": {"vi": "Phương thức không được hỗ trợ.", "en": "Method not allowed."},
    "error.duplicate": {"vi": "{what} đã tồn tại.", "en": "{what} already exists."},
    "device.alarm.offline.title": {"vi": "Mất kết nối: {name}", "en": "Offline: {name}"},
    "device.alarm.playback_error.title": {"vi": "Lỗi phát: {name}", "en": "Playback failing: {name}"},
    "device.alarm.manifest_verification_failed.title": {
        "vi": "Lịch phát bị từ chối: {name}",
        "en": "Manifest rejected: {name}",
    },
    "device.alarm.body": {
        "vi": "Cụm loa {name} ({area}) không phát được. Vui lòng kiểm tra.",
        "en": "The loudspeaker cluster {name} ({area}) is not playing. Please check it.",
    },
    "programme.moved.title": {
        "vi": "Bản tin dời sang buổi phát sau: {title}",
        "en": "Notice moved to a later session: {title}",
    },
    "programme.moved.body": {
        "vi": "Bản tin “{title}” không đủ chỗ trong buổi phát {wanted} của {station}; "
        "đã dời sang buổi phát {placed}.",
        "en": "“{title}” did not fit the {wanted} session of {station}; it moved to the {placed} session.",
    },
    "programme.unplaced.title": {
        "vi": "Bản tin chưa xếp được vào buổi phát: {title}",
        "en": "Notice could not be placed in a session: {title}",
    },
    "programme.unplaced.too_long": {
        "vi": "Bản tin “{title}” dài hơn thời lượng tối đa một buổi phát của {station}; chưa thể phát trên loa.",
        "en": "“{title}” is longer than a session of {station} may last; it cannot play on the loudspeakers.",
    },
    "programme.unplaced.no_room_before_expiry": {
        "vi": "Các buổi phát của {station} đến khi bản tin “{title}” hết hiệu lực ({until}) đều đã đầy; "
        "bản tin chưa được xếp lịch phát.",
        "en": "Every session of {station} until “{title}” expires ({until}) is full; it is not scheduled.",
    },
    "programme.unplaced.no_session_before_expiry": {
        "vi": "{station} không có buổi phát nào trước khi bản tin “{title}” hết hiệu lực ({until}); "
        "bản tin chưa được xếp lịch phát.",
        "en": "{station} has no session before “{title}” expires ({until}); it is not scheduled.",
    },
    "programme.no_expiry": {"vi": "trong tuần tới", "en": "in the coming week"},
    "programme.when": {"vi": "{time} ngày {date}", "en": "{time} on {date}"},
    "error.claim_code_invalid": {
        "vi": "Mã kích hoạt không đúng, đã dùng hoặc đã hết hạn.",
        "en": "The claim code is wrong, already used or expired.",
    },
    "error.device_retired": {
        "vi": "Thiết bị đã ngừng sử dụng.",
        "en": "The device has been retired.",
    },
    "error.device_import": {
        "vi": "Tệp CSV có dòng không hợp lệ; chưa nhập thiết bị nào.",
        "en": "The CSV has invalid rows; no device was imported.",
    },
    "error.not_emergency": {
        "vi": "Chỉ bản tin khẩn cấp mới được phê duyệt và phát ngay trong một bước.",
        "en": "Only emergency notices may be approved and published in one step.",
    },
    "error.push_endpoint_taken": {
        "vi": "Đăng ký nhận thông báo này thuộc về một tài khoản khác.",
        "en": "This push subscription belongs to another account.",
    },
    "error.push_registration_gone": {
        "vi": "Dịch vụ thông báo đẩy đã báo đăng ký này không còn hiệu lực; hãy đăng ký lại trên thiết bị.",
        "en": "The push service reported this registration gone; subscribe again on the device.",
    },
    "error.push_keys_mismatch": {
        "vi": "Khóa mã hóa không khớp với đăng ký đã có cho địa chỉ nhận này.",
        "en": "The keys do not match the existing registration of this endpoint.",
    },
    "error.feedback_state": {
        "vi": "Phản ánh đang ở trạng thái “{state}”, không thể thực hiện thao tác này.",
        "en": "The feedback is {state}; this is not possible now.",
    },
    "error.client_id_reused": {
        "vi": "Mã gửi (client_id) này đã dùng cho một phản ánh khác.",
        "en": "This client_id was already used for different feedback.",
    },
    "error.already_rated": {"vi": "Bạn đã đánh giá câu trả lời này.", "en": "You already rated this answer."},
    "error.reopen_window": {
        "vi": "Đã quá {days} ngày kể từ khi trả lời; không thể mở lại phản ánh.",
        "en": "More than {days} days have passed since the answer; the feedback cannot be reopened.",
    },
    "error.csrf": {
        "vi": "Biểu mẫu đã hết hiệu lực hoặc không gửi từ trang của hệ thống; hãy tải lại trang và thử lại.",
        "en": "The form has expired or did not come from this site; reload the page and try again.",
    },
    "error.session_expired": {
        "vi": "Phiên làm việc đã hết hạn; hãy đăng nhập lại.",
        "en": "Your session has ended; log in again.",
    },
    "error.unavailable": {
        "vi": "Hệ thống đang bận; vui lòng thử lại sau ít giây.",
        "en": "The service is busy; try again in a few seconds.",
    },
    "error.sync_protocol": {
        "vi": "Phiên bản giao thức đồng bộ {version} không được hỗ trợ; hãy cập nhật ứng dụng.",
        "en": "Sync protocol version {version} is not supported; update the app.",
    },
    "error.sync_rejected": {
        "vi": "Thay đổi không được chấp nhận: {reason}",
        "en": "The change was not accepted: {reason}",
    },
    "error.out_of_scope": {
        "vi": "Dữ liệu này không còn thuộc phạm vi công việc của bạn; thay đổi không được áp dụng.",
        "en": "This record is no longer within your scope; the change was not applied.",
    },
    "error.row_deleted": {
        "vi": "Dữ liệu này đã bị xóa; thay đổi không được áp dụng.",
        "en": "This record was deleted; the change was not applied.",
    },
    "error.device_taken": {
        "vi": "Mã thiết bị này đang thuộc tài khoản khác.",
        "en": "This device id belongs to another account.",
    },
    "error.upload_offset": {
        "vi": "Vị trí tải lên không khớp; máy chủ đã nhận {offset} byte.",
        "en": "Upload offset mismatch; the server holds {offset} bytes.",
    },
    "error.blob_corrupt": {
        "vi": "Tệp tải lên bị hỏng (mã băm không khớp); hãy tải lại.",
        "en": "The uploaded file is corrupt (hash mismatch); upload it again.",
    },
    "error.blob_pending": {
        "vi": "Tệp chưa được tải lên đầy đủ.",
        "en": "The file has not been fully uploaded yet.",
    },
    "error.range": {"vi": "Khoảng byte yêu cầu không hợp lệ.", "en": "Requested range not satisfiable."},
    "error.media_too_large": {"vi": "Tệp đính kèm quá lớn.", "en": "The attached file is too large."},
    "error.media_type": {
        "vi": "Loại tệp không được hỗ trợ (chỉ ảnh JPEG, PNG, WebP hoặc ghi âm OGG, MP3, M4A, AMR, WAV).",
        "en": "Unsupported file type (JPEG, PNG, WebP photos or OGG, MP3, M4A, AMR, WAV voice notes only).",
    },
    "error.stale_row": {
        "vi": "Dữ liệu đã được người khác thay đổi (phiên bản {current}); hãy tải lại.",
        "en": "Someone else changed this (now version {current}); reload it.",
    },
    "error.audio_not_audio": {
        "vi": "Tệp tải lên không phải là âm thanh.",
        "en": "The uploaded file is not audio.",
    },
    "error.audio_corrupt": {
        "vi": "Tệp âm thanh bị hỏng, không giải mã được.",
        "en": "The audio file is damaged and cannot be decoded.",
    },
    "error.audio_too_long": {
        "vi": "Bản ghi âm dài quá {minutes} phút.",
        "en": "The recording is longer than {minutes} minutes.",
    },
    "error.bad_audio": {"vi": "Tệp âm thanh không dùng được.", "en": "The audio file cannot be used."},
    "error.training_file_too_large": {
        "vi": "Tệp tài liệu bồi dưỡng quá lớn (tối đa {max_mb} MB).",
        "en": "The training file is too large (at most {max_mb} MB).",
    },
    "error.training_file_type": {
        "vi": "Nội dung tệp không phải loại “{kind}” (tài liệu: PDF; bài giảng trình chiếu: PDF, PPTX, ODP; "
        "âm thanh: MP3, M4A, OGG, AAC, WAV; video: MP4, WebM).",
        "en": "The file's content is not {kind} (document: PDF; slides: PDF, PPTX, ODP; audio: MP3, M4A, "
        "OGG, AAC, WAV; video: MP4, WebM).",
    },
    "error.training_file_missing": {
        "vi": "Chưa có tệp với mã băm này; hãy tải tệp lên kho tệp trước.",
        "en": "No file with this sha256; upload it to the blob store first.",
    },
    "error.training_state": {
        "vi": "Tài liệu bồi dưỡng đang ở trạng thái “{state}”, không thể {action}.",
        "en": "The training material is {state}; it cannot be {action}.",
    },
    "error.training_already_completed": {
        "vi": "Bạn đã đánh dấu học xong phiên bản này từ trước; lần đánh dấu đầu tiên được giữ nguyên.",
        "en": "You marked this version as studied before; the first mark stands.",
    },
    "error.default_group": {
        "vi": "Không thể xóa nhóm mặc định của đài (nhóm phủ toàn xã).",
        "en": "The station's default group (the whole commune) cannot be removed.",
    },
}

NOUNS: dict[str, dict[str, str]] = {
    "area": {"vi": "địa bàn", "en": "Area"},
    "account": {"vi": "tài khoản", "en": "Account"},
    "notice": {"vi": "bản tin", "en": "Notice"},
    "cap_message": {"vi": "bản tin CAP", "en": "CAP message"},
    "category": {"vi": "lĩnh vực", "en": "Category"},
    "resource": {"vi": "tài nguyên", "en": "Resource"},
    "device": {"vi": "thiết bị", "en": "Device"},
    "push_registration": {"vi": "đăng ký nhận thông báo đẩy", "en": "Push registration"},
    "feedback": {"vi": "phản ánh", "en": "Feedback"},
    "station": {"vi": "đài truyền thanh", "en": "Station"},
    "station_group": {"vi": "nhóm cụm loa", "en": "Station group"},
    "schedule": {"vi": "lịch phát sóng", "en": "Schedule"},
    "programme_item": {"vi": "mục chương trình", "en": "Programme item"},
    "media": {"vi": "tệp phát", "en": "Media file"},
    "blob": {"vi": "tệp", "en": "File"},
    "conflict": {"vi": "xung đột", "en": "Conflict"},
    "sync_device": {"vi": "thiết bị đồng bộ", "en": "Sync device"},
    "training_topic": {"vi": "chủ đề bồi dưỡng", "en": "Training topic"},
    "training_material": {"vi": "tài liệu bồi dưỡng", "en": "Training material"},
    "training_version": {"vi": "phiên bản tài liệu bồi dưỡng", "en": "Training material version"},
    "training_kind.document": {"vi": "tài liệu", "en": "document"},
    "training_kind.slides": {"vi": "bài giảng trình chiếu", "en": "slide deck"},
    "training_kind.audio": {"vi": "âm thanh", "en": "audio"},
    "training_kind.video": {"vi": "video", "en": "video"},
    "sms_subscription": {"vi": "đăng ký nhận tin nhắn SMS", "en": "SMS subscription"},
}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower-case without diacritics, for search and sorting that users expect to ignore accents.

    ``đ`` has no decomposition in Unicode, so it is mapped by hand."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return stripped.replace("đ", "d")


def pick_language(accept_language: str | None) -> str:
    if not accept_language:
        return DEFAULT_LANGUAGE
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        base = tag.split("-")[0]
        if base in {"vi", "en"}:
            return base
    return DEFAULT_LANGUAGE


def lookup(
    catalog: Mapping[str, Mapping[str, str]], key: str, language: str = DEFAULT_LANGUAGE, **params: Any
) -> str:
    """The text of ``key`` in ``language`` from a catalog ``{key: {language: text}}``: Vietnamese
    when that language has none, the key itself when the catalog has none; ``{name}`` filled in."""
    texts = catalog.get(key)
    if texts is None:
        return key
    template = texts.get(language) or texts[DEFAULT_LANGUAGE]
    if not params:
        return template
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template


def translate(key: str, language: str = DEFAULT_LANGUAGE, **params: Any) -> str:
    localized = {
        k: NOUNS[v].get(language, NOUNS[v]["vi"]) if isinstance(v, str) and v in NOUNS else v
        for k, v in params.items()
    }
    return lookup(MESSAGES, key, language, **localized)
