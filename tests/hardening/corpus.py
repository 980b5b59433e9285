"""The bad-input corpus: one row per kind of hostile request, with what the answer must say."""

# One request per line reads as a table; wrapping each would hide it.
# ruff: noqa: E501

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from tests.hardening.kit import Kit, as_zip, bomb_zip, lying_zip, many_entries_zip, symlink_zip

API = "/api/v1/admin/training"
VOICES = "/api/v1/admin/voices"
AUDIT = "/api/v1/admin/audit"
SQL = "x' OR '1'='1' --"
DROP = "base'; DROP TABLE clips; --"
TRAVERSAL = quote("../../etc/passwd", safe="")
NUL = quote("base\x00.wav", safe="")


KINDS = {
    "audio": "Truncated, garbage, silent and zero-length audio; non-audio named .wav/.mp3/.flac",
    "archive": "Zip-slip (../, absolute, backslash), symlinks, a 210 MB bomb, lying sizes, 10,000 entries",
    "metadata": "Metadata that is not UTF-8 (with a BOM and mixed CRLF), UTF-16, bad columns, repeats",
    "transcript": "Control characters, NUL, escape codes, bidi overrides, HTML/SSML markup, pipes, CRLF",
    "json": "Wrong JSON types, huge numbers, NaN/inf, negative epochs, absurd batch sizes and limits",
    "identifier": "SQL- and path-injection in dataset names, job ids, clip names, aliases and usernames",
    "size": "Oversized bodies, declared lengths, form fields, field counts and headers",
    "auth": "Missing, oversized and under-privileged credentials; unknown routes",
}


@dataclass(frozen=True)
class Bad:
    """A hostile request, the statuses it may get, and a phrase its detail must contain."""

    id: str
    kind: str
    method: str
    path: str
    build: Callable[[Kit], dict] = lambda kit: {}
    expect: tuple[int, ...] = (422,)
    needle: str = ""
    auth: str = "admin"


def _json(body: object) -> Callable[[Kit], dict]:
    return lambda kit: {"json": body}


def _raw(body: bytes, ctype: str = "application/json") -> Callable[[Kit], dict]:
    return lambda kit: {"content": body, "headers": {"Content-Type": ctype}}


# fmt: off
START = f"{API}/start"
ESTIMATE = f"{API}/estimate"
UPLOAD = f"{API}/upload"
BATCH = f"{API}/upload-batch"
CLIP = f"{API}/datasets/base/clips"
AUDIO_CASES = [
    Bad("garbage-audio", "audio", "POST", UPLOAD, lambda k: k.upload(bytes(range(256)) * 64), needle="decode"),
    Bad("truncated-mp3", "audio", "POST", UPLOAD, lambda k: k.upload(k.mp3[:300], filename="t.mp3"), needle="decode"),
    Bad("truncated-wav-header-only", "audio", "POST", UPLOAD, lambda k: k.upload(k.wav[:44]), needle="audio"),
    Bad("text-named-mp3", "audio", "POST", UPLOAD, lambda k: k.upload(b"meeting notes\n" * 99, filename="n.mp3"), needle="audio"),
    Bad("zip-named-wav", "audio", "POST", UPLOAD, lambda k: k.upload(as_zip({"a.txt": b"hi"}), filename="z.wav"), needle="audio"),
    Bad("pdf-named-flac", "audio", "POST", UPLOAD, lambda k: k.upload(b"%PDF-1.4\n%\xe2\xe3\n" * 50, filename="p.flac"), needle="audio"),
    Bad("zero-length-part", "audio", "POST", UPLOAD, lambda k: k.upload(b""), needle="empty"),
    Bad("too-short-clip", "audio", "POST", UPLOAD, lambda k: k.upload(k.short), needle="at least"),
    Bad("silence-only", "audio", "POST", UPLOAD, lambda k: k.upload(k.silent), needle="silent"),
    Bad("no-audio-part", "audio", "POST", UPLOAD, lambda k: {"data": {"dataset_name": "base"}}, needle="audio"),
    Bad("audio-as-text-field", "audio", "POST", UPLOAD, lambda k: {"data": {"audio": "AAAA", "dataset_name": "base"}}, needle="audio"),
]
DETECT = "/api/v1/admin/detect"
DETECT_CASES = [
    Bad("detect-garbage", "audio", "POST", DETECT, lambda k: {"files": {"audio": ("x.wav", bytes(range(256)) * 64)}}, needle="decode"),
    Bad("detect-text-named-mp3", "audio", "POST", DETECT, lambda k: {"files": {"audio": ("n.mp3", b"meeting notes\n" * 99)}}, needle="audio"),
    Bad("detect-truncated-mp3", "audio", "POST", DETECT, lambda k: {"files": {"audio": ("t.mp3", k.mp3[:300])}}, needle="decode"),
    Bad("detect-zero-length", "audio", "POST", DETECT, lambda k: {"files": {"audio": ("e.wav", b"")}}, needle="empty"),
    Bad("detect-no-audio-part", "audio", "POST", DETECT, lambda k: {"data": {"x": "1"}}, needle="audio"),
    Bad("detect-as-user", "auth", "POST", DETECT, lambda k: {"files": {"audio": ("a.wav", k.wav)}}, expect=(403,), needle="admin", auth="user"),
]
ARCHIVE_CASES = [
    Bad("zip-slip-dotdot", "archive", "POST", BATCH, lambda k: k.archive(as_zip({"../../evil.wav": k.wav})), needle="outside"),
    Bad("zip-slip-absolute", "archive", "POST", BATCH, lambda k: k.archive(as_zip({"/tmp/evil.wav": k.wav})), needle="outside"),
    Bad("zip-slip-backslash", "archive", "POST", BATCH, lambda k: k.archive(as_zip({"..\\..\\evil.wav": k.wav})), needle="outside"),
    Bad("zip-symlink", "archive", "POST", BATCH, lambda k: k.archive(symlink_zip(k.wav)), needle="symbolic link"),
    Bad("zip-bomb", "archive", "POST", BATCH, lambda k: k.archive(bomb_zip()), needle="too large"),
    Bad("zip-lying-sizes", "archive", "POST", BATCH, lambda k: k.archive(lying_zip()), needle="zip"),
    Bad("zip-10000-entries", "archive", "POST", BATCH, lambda k: k.archive(many_entries_zip()), needle="limit is"),
    Bad("zip-duplicate-names", "archive", "POST", BATCH, lambda k: k.archive(as_zip({"a/x.wav": k.wav, "b/x.wav": k.wav})), needle="two files"),
    Bad("zip-not-a-zip", "archive", "POST", BATCH, lambda k: k.archive(k.wav), needle="not a valid zip"),
    Bad("zip-without-audio", "archive", "POST", BATCH, lambda k: k.archive(as_zip({"metadata.csv": b"a.wav|Hi.\n"})), needle="no audio"),
    Bad("archive-and-parts", "archive", "POST", BATCH, lambda k: {**k.archive(as_zip({"a.wav": k.wav})), "files": [("archive", ("a.zip", b"PK")), ("audio", ("a.wav", k.wav))]}, needle="either"),
    Bad("batch-with-nothing", "archive", "POST", BATCH, lambda k: {"data": {"dataset_name": "fresh"}}, needle="either"),
]
METADATA_CASES = [
    Bad("metadata-latin1-bom-crlf", "metadata", "POST", BATCH, lambda k: k.parts(b"\xef\xbb\xbfa.wav|caf\xe9 cr\xe8me\r\nb.mp3|na\xefve\nc|x\r\n"), needle="not UTF-8"),
    Bad("metadata-utf16", "metadata", "POST", BATCH, lambda k: k.parts("a.wav|Hello.\r\n".encode("utf-16")), needle="UTF-8"),
    Bad("metadata-four-columns", "metadata", "POST", BATCH, lambda k: k.parts(b"a.wav|x|y|z\n"), needle="columns"),
    Bad("metadata-same-file-twice", "metadata", "POST", BATCH, lambda k: k.parts(b"a.wav|One.\r\na.wav|Two.\n"), needle="twice"),
    Bad("metadata-blank-name", "metadata", "POST", BATCH, lambda k: k.parts(b"|Nobody.\n"), needle="names no file"),
    Bad("metadata-only-blank-lines", "metadata", "POST", BATCH, lambda k: k.parts(b"\r\n \n\r\n"), needle="empty"),
]
TRANSCRIPT_CASES = [
    Bad("transcript-nul", "transcript", "POST", UPLOAD, lambda k: k.upload(k.wav, transcript="nul\x00byte"), needle="control character"),
    Bad("transcript-escape-seq", "transcript", "POST", UPLOAD, lambda k: k.upload(k.wav, transcript="red \x1b[31m text"), needle="control character"),
    Bad("transcript-bidi-override", "transcript", "POST", UPLOAD, lambda k: k.upload(k.wav, transcript="abc \u202egnp.exe"), needle="control character"),
    Bad("transcript-script-tag", "transcript", "POST", UPLOAD, lambda k: k.upload(k.wav, transcript="<script>alert(1)</script>Hi"), needle="markup"),
    Bad("transcript-ssml", "transcript", "POST", UPLOAD, lambda k: k.upload(k.wav, transcript='Wait <break time="3s"/> now'), needle="markup"),
    Bad("transcript-pipe", "transcript", "POST", UPLOAD, lambda k: k.upload(k.wav, transcript="a|b"), needle="'|'"),
    Bad("transcript-crlf", "transcript", "POST", UPLOAD, lambda k: k.upload(k.wav, transcript="one\r\ntwo"), needle="single line"),
    Bad("transcript-too-long", "transcript", "POST", UPLOAD, lambda k: k.upload(k.wav, transcript="word " * 200), needle="limit is"),
    Bad("patch-transcript-markup", "transcript", "PATCH", f"{CLIP}/seed.wav", _json({"transcript": "<img src=x onerror=alert(1)>"}), needle="markup"),
    Bad("patch-transcript-wrong-type", "transcript", "PATCH", f"{CLIP}/seed.wav", _json({"transcript": ["a"]}), needle="transcript"),
]
JSON_CASES = [
    Bad("epochs-string", "json", "POST", START, _json({"dataset_name": "base", "epochs": "ten"}), needle="epochs"),
    Bad("alias-wyoming-not-bool", "json", "PUT", "/api/v1/admin/voices/myvoice", _json({"job_id": "nope", "wyoming": "sometimes"}), needle="wyoming"),
    Bad("epochs-negative", "json", "POST", START, _json({"dataset_name": "base", "epochs": -5}), needle="epochs"),
    Bad("epochs-huge", "json", "POST", START, _json({"dataset_name": "base", "epochs": 10**40}), needle="epochs"),
    Bad("batch-size-zero", "json", "POST", START, _json({"dataset_name": "base", "batch_size": 0}), needle="batch_size"),
    Bad("batch-size-absurd", "json", "POST", START, _json({"dataset_name": "base", "batch_size": 10**9}), needle="batch_size"),
    Bad("learning-rate-nan", "json", "POST", START, _raw(b'{"dataset_name": "base", "learning_rate": NaN}'), needle="learning_rate"),
    Bad("learning-rate-overflow", "json", "POST", START, _raw(b'{"dataset_name": "base", "learning_rate": 1e999}'), needle="learning_rate"),
    Bad("early-stop-patience-negative", "json", "POST", START, _json({"dataset_name": "base", "early_stop_patience": -1}), needle="early_stop_patience"),
    Bad("early-stop-patience-huge", "json", "POST", START, _json({"dataset_name": "base", "early_stop_patience": 10**6}), needle="early_stop_patience"),
    Bad("epochs-auto-misspelt", "json", "POST", START, _json({"dataset_name": "base", "epochs": "automatic"}), needle="epochs"),
    Bad("epochs-zero", "json", "POST", START, _json({"dataset_name": "base", "epochs": 0}), needle="epochs"),
    Bad("max-steps-zero", "json", "POST", START, _json({"dataset_name": "base", "epochs": "auto", "max_steps": 0}), needle="max_steps"),
    Bad("promote-step-not-a-number", "json", "POST", f"{API}/jobs/x/checkpoints/last/promote", needle="step"),
    Bad("too-many-test-sentences", "json", "POST", START, _json({"dataset_name": "base", "test_sentences": ["a"] * 11}), needle="test_sentences"),
    Bad("body-is-array", "json", "POST", START, _json([{"dataset_name": "base"}]), needle="object"),
    Bad("malformed-json", "json", "POST", START, _raw(b'{"dataset_name": "base",'), needle="JSON"),
    Bad("dataset-too-small-to-train", "json", "POST", START, _json({"dataset_name": "base"}), needle="clips"),
    Bad("estimate-epochs-string", "json", "POST", ESTIMATE, _json({"dataset_name": "base", "epochs": "ten"}), needle="epochs"),
    Bad("estimate-batch-size-absurd", "json", "POST", ESTIMATE, _json({"dataset_name": "base", "batch_size": 10**9}), needle="batch_size"),
    Bad("estimate-malformed-json", "json", "POST", ESTIMATE, _raw(b'{"dataset_name": "base",'), needle="JSON"),
    Bad("estimate-dataset-too-small", "json", "POST", ESTIMATE, _json({"dataset_name": "base"}), needle="clips"),
    Bad("estimate-unknown-dataset", "identifier", "POST", ESTIMATE, _json({"dataset_name": "nowhere"}), expect=(404,), needle="does not exist"),
    Bad("estimate-dataset-name-sql", "identifier", "POST", ESTIMATE, _json({"dataset_name": DROP}), needle="letters, digits"),
    Bad("estimate-id-traversal", "identifier", "GET", f"{ESTIMATE}/{TRAVERSAL}", expect=(404,), needle=""),
    Bad("estimate-id-sql", "identifier", "GET", f"{ESTIMATE}/{quote(SQL)}", expect=(404,), needle="estimate"),
    Bad("offset-huge", "json", "GET", f"{API}/datasets/base?offset={10**30}", needle="offset"),
    Bad("limit-absurd", "json", "GET", f"{API}/datasets/base?limit=100000", needle="limit"),
    Bad("log-tail-negative", "json", "GET", f"{API}/jobs/x/log?tail=-1", needle="tail"),
    Bad("dataset-export-layout-unknown", "json", "GET", f"{API}/datasets/base/export?layout=kaldi", needle="ljspeech"),
    Bad("job-export-format-unknown", "json", "GET", f"{API}/jobs/x/export?format=mp3", needle="format"),
    Bad("job-export-format-missing", "json", "GET", f"{API}/jobs/x/export", needle="format"),
    Bad("cleanup-lufs-absurd", "json", "PUT", f"{API}/datasets/base/cleanup", _json({"trim_silence": True, "normalize_loudness": True, "target_lufs": 1e300}), needle="target_lufs"),
    Bad("speak-speed-zero", "json", "POST", "/api/v1/synthesize", _json({"text": "Hi.", "speed": 0}), needle="speed"),
    Bad("speak-format-exe", "json", "POST", "/api/v1/synthesize", _json({"text": "Hi.", "format": "exe"}), needle="format"),
    Bad("speak-text-too-long", "json", "POST", "/api/v1/synthesize", _json({"text": "word " * 2000}), needle="limit"),
    Bad("speak-job-id-number", "json", "POST", "/api/v1/synthesize-trained", _json({"text": "Hi.", "job_id": 7}), needle="job_id"),
    Bad("sharing-mode-unknown", "json", "PUT", f"{VOICES}/myvoice/sharing", _json({"mode": "friends"}), needle="mode must be one of"),
    Bad("sharing-mode-number", "json", "PUT", f"{VOICES}/myvoice/sharing", _json({"mode": 3}), needle="mode"),
    Bad("sharing-mode-missing", "json", "PUT", f"{VOICES}/myvoice/sharing", _json({"users": ["alice"]}), needle="mode"),
    Bad("sharing-users-not-a-list", "json", "PUT", f"{VOICES}/myvoice/sharing", _json({"mode": "users", "users": "alice"}), needle="users"),
    Bad("sharing-users-empty", "json", "PUT", f"{VOICES}/myvoice/sharing", _json({"mode": "users", "users": []}), needle="at least one user"),
    Bad("sharing-users-with-private", "json", "PUT", f"{VOICES}/myvoice/sharing", _json({"mode": "private", "users": ["alice"]}), needle="only with mode 'users'"),
    Bad("sharing-users-10000", "json", "PUT", f"{VOICES}/myvoice/sharing", _json({"mode": "users", "users": ["alice"] * 10_000}), needle="users"),
    Bad("audit-since-not-a-date", "json", "GET", f"{AUDIT}?since=yesterday", needle="since"),
    Bad("audit-misspelt-filter", "json", "GET", f"{AUDIT}?usr=ada", needle="unknown audit filter 'usr'"),
    Bad("audit-empty-filter-name", "json", "GET", f"{AUDIT}?=x&limit=2", needle="unknown audit filter"),
    Bad("audit-until-impossible-date", "json", "GET", f"{AUDIT}?until=2026-02-31", needle="until"),
    Bad("audit-since-after-until", "json", "GET", f"{AUDIT}?since=2026-11-02&until=2026-11-01", needle="is after until"),
    Bad("audit-limit-huge", "json", "GET", f"{AUDIT}?limit={10**30}", needle="limit"),
    Bad("audit-limit-zero", "json", "GET", f"{AUDIT}?limit=0", needle="limit"),
    Bad("audit-cursor-negative", "json", "GET", f"{AUDIT}?cursor=-5", needle="cursor"),
    Bad("audit-cursor-huge", "json", "GET", f"{AUDIT}?cursor={10**30}", needle="cursor"),
    Bad("audit-action-unknown", "json", "GET", f"{AUDIT}?action={quote(DROP)}", needle="action"),
    Bad("audit-actor-4kb", "json", "GET", f"{AUDIT}?actor={'a' * 4096}", needle="actor"),
    Bad("user-role-root", "json", "POST", "/api/v1/admin/users", _json({"username": "bob", "password": "long-enough-pw", "role": "root"}), needle="role"),
    Bad("login-username-list", "json", "POST", "/api/v1/auth/login", _json({"username": ["admin"], "password": "x"}), needle="username", auth="none"),
]
IDENTIFIER_CASES = [
    Bad("dataset-name-sql-upload", "identifier", "POST", UPLOAD, lambda k: k.upload(k.wav, dataset_name=DROP), needle="letters, digits"),
    Bad("dataset-name-path-batch", "identifier", "POST", BATCH, lambda k: k.archive(as_zip({"a.wav": k.wav}), dataset="../../var"), needle="letters, digits"),
    Bad("dataset-name-sql-detail", "identifier", "GET", f"{API}/datasets/{quote(SQL)}", expect=(404,), needle="does not exist"),
    Bad("dataset-name-sql-report", "identifier", "GET", f"{API}/datasets/{quote(SQL)}/report", expect=(404,), needle="does not exist"),
    Bad("dataset-name-sql-delete", "identifier", "DELETE", f"{API}/datasets/{quote(DROP)}", expect=(404, 422), needle="dataset"),
    Bad("dataset-name-traversal-export", "identifier", "GET", f"{API}/datasets/{TRAVERSAL}/export", expect=(404, 422), needle=""),
    Bad("dataset-name-4kb-accept-asr", "identifier", "POST", f"{API}/datasets/{'0' * 28 + chr(0x80) * 2000}/clips/x.wav/accept-asr", needle="letters, digits"),
    Bad("dataset-name-dotdot-export", "identifier", "GET", f"{API}/datasets/../export", expect=(404, 422), needle=""),
    Bad("dataset-name-sql-cleanup", "identifier", "PUT", f"{API}/datasets/{quote(SQL)}/cleanup", _json({"trim_silence": False, "normalize_loudness": False, "target_lufs": -23}), expect=(404, 422), needle="dataset"),
    Bad("clip-name-traversal-audio", "identifier", "GET", f"{CLIP}/{TRAVERSAL}/audio", expect=(404,), needle=""),
    Bad("clip-name-sql-patch", "identifier", "PATCH", f"{CLIP}/{quote(SQL)}", _json({"transcript": "Hi."}), expect=(404,), needle="not in dataset"),
    Bad("clip-name-nul-delete", "identifier", "DELETE", f"{CLIP}/{NUL}", expect=(404,), needle="not in dataset"),
    Bad("job-id-sql-get", "identifier", "GET", f"{API}/jobs/{quote(SQL)}", expect=(404,), needle="does not exist"),
    Bad("job-id-sql-cancel", "identifier", "POST", f"{API}/jobs/{quote(DROP)}/cancel", expect=(404,), needle="does not exist"),
    Bad("job-id-traversal-delete", "identifier", "DELETE", f"{API}/jobs/{TRAVERSAL}", expect=(404,), needle=""),
    Bad("job-id-sql-resume", "identifier", "POST", f"{API}/jobs/{quote(SQL)}/resume", expect=(404,), needle="does not exist"),
    Bad("job-id-sql-checkpoints", "identifier", "GET", f"{API}/jobs/{quote(SQL)}/checkpoints", expect=(404,), needle="does not exist"),
    Bad("job-id-sql-promote", "identifier", "POST", f"{API}/jobs/{quote(DROP)}/checkpoints/4/promote", expect=(404,), needle="does not exist"),
    Bad("sample-name-traversal", "identifier", "GET", f"{API}/jobs/x/samples/{TRAVERSAL}", expect=(404,), needle=""),
    Bad("job-id-sql-events", "identifier", "GET", f"{API}/jobs/{quote(SQL)}/events", expect=(404,), needle="does not exist"),
    Bad("job-id-sql-export", "identifier", "GET", f"{API}/jobs/{quote(SQL)}/export?format=piper", expect=(404,), needle="does not exist"),
    Bad("job-id-sql-synthesize", "identifier", "POST", "/api/v1/synthesize-trained", _json({"text": "Hi.", "job_id": DROP}), expect=(404,), needle="does not exist"),
    Bad("job-id-traversal-openai", "identifier", "POST", "/v1/audio/speech", _json({"input": "Hi.", "voice": "../../etc/passwd"}), expect=(404,), needle=""),
    Bad("alias-sql-put", "identifier", "PUT", f"/api/v1/admin/voices/{quote(SQL)}", _json({"job_id": "nope"}), needle="alias"),
    Bad("alias-traversal-delete", "identifier", "DELETE", f"/api/v1/admin/voices/{TRAVERSAL}", expect=(404,), needle=""),
    Bad("alias-job-sql", "identifier", "PUT", "/api/v1/admin/voices/myvoice", _json({"job_id": DROP, "checkpoint": "../../x.pth"}), expect=(404,), needle="does not exist"),
    Bad("sharing-unknown-voice", "identifier", "PUT", f"{VOICES}/{quote(SQL)}/sharing", _json({"mode": "everyone"}), expect=(404,), needle="does not exist"),
    Bad("sharing-unknown-user", "identifier", "PUT", f"{VOICES}/myvoice/sharing", _json({"mode": "users", "users": ["alice", DROP]}), needle="no such user"),
    Bad("sharing-user-traversal", "identifier", "PUT", f"{VOICES}/myvoice/sharing", _json({"mode": "users", "users": ["../../root"]}), needle="no such user"),
    Bad("speak-unshared-as-user", "identifier", "POST", "/api/v1/synthesize-trained", _json({"text": "Hi.", "job_id": "myvoice"}), expect=(404,), needle="does not exist", auth="user"),
    Bad("openai-unshared-as-user", "identifier", "POST", "/v1/audio/speech", _json({"input": "Hi.", "voice": "myvoice"}), expect=(404,), needle="does not exist", auth="user"),
    Bad("username-sql-create", "identifier", "POST", "/api/v1/admin/users", _json({"username": DROP, "password": "long-enough-pw"}), needle="username"),
    Bad("username-traversal-create", "identifier", "POST", "/api/v1/admin/users", _json({"username": "../../root", "password": "long-enough-pw"}), needle="username"),
    Bad("username-sql-patch", "identifier", "PATCH", f"/api/v1/admin/users/{quote(SQL)}", _json({"role": "admin"}), expect=(404,), needle="user"),
    Bad("username-sql-delete", "identifier", "DELETE", f"/api/v1/admin/users/{quote(DROP)}", expect=(404,), needle="user"),
    Bad("username-sql-login", "identifier", "POST", "/api/v1/auth/login", _json({"username": SQL, "password": SQL}), expect=(401,), needle="username or password", auth="none"),
]
SIZE_CASES = [
    Bad("json-body-2mb", "size", "POST", START, _raw(b'{"dataset_name": "' + b"a" * (2 * 2**20) + b'"}'), expect=(413,), needle="limit"),
    Bad("declared-length-1tb", "size", "POST", UPLOAD, lambda k: {"content": b"x", "headers": {"Content-Length": str(2**40), "Content-Type": "multipart/form-data; boundary=x"}}, expect=(413,), needle="limit"),
    Bad("form-field-2mb", "size", "POST", UPLOAD, lambda k: k.upload(k.wav, transcript="a" * (2 * 2**20)), expect=(400, 413, 422), needle=""),
    Bad("form-2000-fields", "size", "POST", UPLOAD, lambda k: {"data": {f"f{n}": "x" for n in range(2000)}, "files": {"audio": ("a.wav", k.wav)}}, expect=(400, 413, 422), needle="fields"),
    Bad("bearer-token-60kb", "auth", "GET", f"{API}/datasets", lambda k: {"headers": {"Authorization": "Bearer " + "t" * 60_000}}, expect=(401,), needle="token", auth="none"),
    Bad("header-200kb", "size", "GET", "/api/v1/health", lambda k: {"headers": {"X-Junk": "a" * 200_000}}, expect=(431,), needle="headers"),
    Bad("header-500-fields", "size", "GET", f"{API}/datasets", lambda k: {"headers": {f"X-H{n}": "a" for n in range(500)}}, expect=(431,), needle="headers"),
    Bad("no-token", "auth", "POST", UPLOAD, lambda k: k.upload(k.wav), expect=(401,), needle="bearer", auth="none"),
    Bad("sharing-as-plain-user", "auth", "PUT", f"{VOICES}/myvoice/sharing", _json({"mode": "everyone"}), expect=(403,), needle="admin", auth="user"),
    Bad("audit-as-plain-user", "auth", "GET", AUDIT, expect=(403,), needle="admin", auth="user"),
    Bad("user-token-on-admin-route", "auth", "POST", UPLOAD, lambda k: k.upload(k.wav), expect=(403,), needle="admin", auth="user"),
    Bad("cookie-form-without-session", "auth", "POST", "/admin/training/upload", lambda k: k.upload(k.wav), expect=(401, 403), needle="", auth="none"),
    Bad("unknown-route", "auth", "GET", "/api/v1/../../etc/passwd", expect=(404,), needle="endpoint"),
]
# The browser's own routes: the admin's session cookie and CSRF token, forms instead of JSON.
WEB_CASES = [
    Bad("web-start-without-dataset", "identifier", "POST", "/admin/training/start", lambda k: {"data": {"dataset_name": "", "epochs": "2"}}, expect=(422,), needle="pick a dataset", auth="web"),
    Bad("web-estimate-without-dataset", "identifier", "POST", "/admin/training/estimate", lambda k: {"data": {"dataset_name": "", "epochs": "2"}}, expect=(422,), needle="pick a dataset", auth="web"),
    Bad("web-estimate-unknown-id", "identifier", "GET", f"/admin/training/estimate/{quote(SQL)}", expect=(404,), needle="estimate", auth="web"),
    Bad("web-name-voice-bad-alias", "identifier", "POST", "/admin/jobs/nope/alias", lambda k: {"data": {"alias": "bad alias!"}}, expect=(422,), needle="alias may contain only", auth="web"),
    Bad("web-name-voice-sql-alias", "identifier", "POST", "/admin/jobs/nope/alias", lambda k: {"data": {"alias": DROP}}, expect=(422,), needle="alias may contain only", auth="web"),
    Bad("web-name-unknown-voice", "identifier", "POST", f"/admin/jobs/{quote(SQL)}/alias", lambda k: {"data": {"alias": "fine"}}, expect=(404,), needle="voice", auth="web"),
    Bad("web-accept-asr-unknown-clip", "identifier", "POST", f"/admin/datasets/base/clips/{TRAVERSAL}/accept-asr", expect=(404,), needle="clip", auth="web"),
]
CONSENT = f"{API}/datasets/base/consent"
# A consent recording is refused before anything is judged or kept; a judged one is a 200.
CONSENT_CASES = [
    Bad("consent-challenge-unknown-dataset", "identifier", "POST", f"{API}/datasets/nowhere/consent/challenge", _json({"speaker_name": "Ada Park"}), expect=(404,), needle="does not exist"),
    Bad("consent-challenge-dataset-sql", "identifier", "POST", f"{API}/datasets/{quote(SQL)}/consent/challenge", _json({"speaker_name": "Ada Park"}), expect=(404, 422), needle="dataset"),
    Bad("consent-challenge-empty-speaker", "json", "POST", f"{CONSENT}/challenge", _json({"speaker_name": "  "}), needle="speaker_name is empty"),
    Bad("consent-challenge-speaker-missing", "json", "POST", f"{CONSENT}/challenge", _json({}), needle="speaker_name"),
    Bad("consent-challenge-speaker-list", "json", "POST", f"{CONSENT}/challenge", _json({"speaker_name": ["Ada"]}), needle="speaker_name"),
    Bad("consent-challenge-speaker-too-long", "json", "POST", f"{CONSENT}/challenge", _json({"speaker_name": "A" * 500}), needle="limit is"),
    Bad("consent-challenge-speaker-markup", "json", "POST", f"{CONSENT}/challenge", _json({"speaker_name": "<script>x</script>"}), needle="markup"),
    Bad("consent-not-audio", "audio", "POST", CONSENT, lambda k: {"files": {"audio": ("n.wav", b"meeting notes\n" * 99)}}, needle="decode"),
    Bad("consent-empty-audio", "audio", "POST", CONSENT, lambda k: {"files": {"audio": ("e.wav", b"")}}, needle="empty"),
    Bad("consent-audio-missing", "audio", "POST", CONSENT, lambda k: {"data": {"challenge_id": "x"}}, needle="audio"),
    Bad("consent-unknown-dataset", "identifier", "POST", f"{API}/datasets/nowhere/consent", lambda k: {"files": {"audio": ("t.wav", k.wav)}}, expect=(404,), needle="does not exist"),
    Bad("consent-unknown-challenge", "identifier", "POST", CONSENT, lambda k: {"files": {"audio": ("t.wav", k.wav)}, "data": {"challenge_id": SQL}}, expect=(404,), needle="no consent challenge"),
    Bad("start-override-reason-too-short", "json", "POST", START, _json({"dataset_name": "base", "consent_override_reason": "because"}), needle="at least 10"),
    Bad("start-override-reason-number", "json", "POST", START, _json({"dataset_name": "base", "consent_override_reason": 12345678901}), needle="consent_override_reason"),
    Bad("consent-as-plain-user", "auth", "POST", f"{CONSENT}/challenge", _json({"speaker_name": "Ada Park"}), expect=(403,), needle="admin", auth="user"),
    Bad("web-consent-without-audio", "audio", "POST", "/admin/datasets/base/consent", expect=(422,), needle="recording", auth="web"),
]
CORPUS = AUDIO_CASES + DETECT_CASES + ARCHIVE_CASES + METADATA_CASES + TRANSCRIPT_CASES + JSON_CASES + IDENTIFIER_CASES + SIZE_CASES + WEB_CASES + CONSENT_CASES
# fmt: on
