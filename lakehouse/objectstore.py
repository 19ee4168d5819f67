"""Byte-level object stores behind the lake: a local folder or an S3-compatible bucket.

Both offer the same operations (the ObjectStore protocol below), with an optional compare-and-swap on put so
that two writers merging into one object never silently drop each other's rows.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import botocore.config
import botocore.exceptions
import botocore.session

from lakehouse.deadline import request_deadline, run_deadline
from lakehouse.errors import LakeAccessError, LakeConfigError
from lakehouse.settings import without_credentials

# Sentinel for put(): the object must not exist yet.
ABSENT = "<absent>"

# Retries of an S3 request after its first try (botocore's standard mode, with backoff): a few throttled answers are
# absorbed.
RETRIES = 5
# A try starts only with at least this long left, once connected, to wait for its answer before a deadline.
SHORTEST_WAIT_S = 1.0


class PreconditionFailed(Exception):
    """The object changed since it was read (or exists when it should not)."""


class OutOfTime(Exception):
    """No try of an S3 request could end before the deadline of the run or request it is made for: raised instead of
    sending it, and not retried."""


@dataclass(frozen=True)
class StoredObject:
    data: bytes
    etag: str


class ObjectStore(Protocol):
    """What the lake needs from storage. Keys are relative to the lake root, '/'-separated."""

    def get(self, key: str) -> StoredObject | None: ...

    def put(self, key: str, data: bytes, *, if_match: str | None = None) -> None:
        """Write whole. `if_match` is an etag from get(), ABSENT, or None for an unconditional write."""
        ...

    def put_file(self, key: str, path: Path) -> None:
        """Write the local file at `path` whole under `key`, unconditionally, without reading it into memory. The
        file is handed over: it may be moved into place, so the caller removes whatever is left of it."""
        ...

    def folders(self, prefix: str) -> list[str]:
        """The folders right under `prefix` (which ends in '/'), each ending in '/', sorted; no key is listed."""
        ...

    def list(self, prefix: str, *, start_after: str | None = None) -> list[str]:
        """The keys under `prefix`, sorted; only those after `start_after` when given (a store that lists in key
        order reads no further back)."""
        ...

    def versions(self, prefix: str) -> dict[str, str]:
        """Each key under `prefix` with a tag that changes whenever the object is replaced, from the listing
        alone (no object is read)."""
        ...

    def delete(self, key: str) -> None: ...


def _replace(path: Path, fill: Callable[[BinaryIO], object]) -> None:
    """A file beside `path` written by `fill` and flushed to disk, then swapped in: os.replace is atomic on POSIX, so
    a reader finds the old object or the new one, whole."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            fill(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def file_version(stat: os.stat_result) -> str:
    """A local object's version, as LocalStore.versions lists it: a replace writes a new file (os.replace), so its
    modification time moves; the size is a second check."""
    return f"{stat.st_mtime_ns:x}-{stat.st_size:x}"


def _key_of(root: str, path: str) -> str:
    """The key of a file or folder found under the lake's root (`root` ends with a separator)."""
    return path.removeprefix(root).replace(os.sep, "/")


def _all_before(folder: str, start_after: str) -> bool:
    """Whether every key under `folder` (ending with "/") sorts before `start_after`: the folder itself sorts before
    the part of `start_after` as long as it."""
    return folder < start_after[: len(folder)]


class LocalStore:
    """A folder on disk. Writes go to a temporary file then os.replace, which is atomic on POSIX."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root not in path.parents:
            raise LakeConfigError(f"lake key escapes the lake root: {key!r}")
        return path

    def get(self, key: str) -> StoredObject | None:
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        return StoredObject(data, hashlib.md5(data, usedforsecurity=False).hexdigest())

    def put(self, key: str, data: bytes, *, if_match: str | None = None) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._locked(path) if if_match is not None else contextlib.nullcontext():
            if if_match is not None:
                current = self.get(key)
                if (current is None) != (if_match == ABSENT) or (current and current.etag != if_match):
                    raise PreconditionFailed(key)
            _replace(path, lambda f: f.write(data))

    def put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        # On disk before it takes the key, as put() writes.
        with path.open("rb") as written:
            os.fsync(written.fileno())
        try:
            os.replace(path, target)
            return
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
        # On another file system than the lake: copied beside the target first, so that the key changes at once.
        with path.open("rb") as source:
            _replace(target, lambda f: shutil.copyfileobj(source, f))

    @contextlib.contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        # The lock file sits beside the object; it only serialises compare-and-swap writers.
        with open(path.parent / f".{path.name}.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _objects(self, prefix: str, start_after: str | None = None) -> Iterator[tuple[str, os.stat_result]]:
        """Every object under `prefix` with its file's status, in one walk of the folders: the keys are found inside
        the root, so none is resolved again (a listing of a year of days is thousands of files). A file whose name
        starts with a dot is a write or a lock in progress, not an object. With `start_after`, a folder whose keys
        all sort before it is not walked (a year of the run log is some 450,000 files)."""
        base = self._path(prefix) if prefix else self.root
        if base.is_file():
            yield prefix, base.stat()
            return
        if not base.is_dir():
            return
        root = f"{self.root}{os.sep}"
        folders = [str(base)]
        while folders:
            with os.scandir(folders.pop()) as entries:
                for entry in entries:
                    if entry.is_dir():
                        if start_after is None or not _all_before(_key_of(root, entry.path) + "/", start_after):
                            folders.append(entry.path)
                    elif not entry.name.startswith(".") and entry.is_file():
                        try:
                            status = entry.stat()
                        except FileNotFoundError:
                            continue  # removed while the folder was read
                        yield _key_of(root, entry.path), status

    def _keys(self, prefix: str) -> list[str]:
        return sorted(key for key, _ in self._objects(prefix))

    def folders(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self.root
        if not base.is_dir():
            return []
        return sorted(f"{prefix}{p.name}/" for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))

    def list(self, prefix: str, *, start_after: str | None = None) -> list[str]:
        if start_after is None:
            return self._keys(prefix)
        return sorted(key for key, _ in self._objects(prefix, start_after) if key > start_after)

    def versions(self, prefix: str) -> dict[str, str]:
        found = sorted(self._objects(prefix), key=lambda item: item[0])
        return {key: file_version(stat) for key, stat in found}

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()


class S3Store:
    """An S3 bucket (AWS, MinIO, the embedded server). PUT replaces an object atomically."""

    def __init__(
        self,
        bucket: str,
        prefix: str,
        *,
        endpoint_url: str | None,
        region: str,
        url_style: str,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        conditional_writes: bool = True,
        connect_timeout_s: float = 5.0,
        read_timeout_s: float = 20.0,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.endpoint_url = endpoint_url
        self.conditional_writes = conditional_writes
        # botocore alone: boto3 would add its transfer manager to every cold start for nothing used here.
        session = botocore.session.get_session()
        if access_key_id and secret_access_key:
            session.set_credentials(access_key_id, secret_access_key)
        self.session = session
        config = botocore.config.Config(
            s3={"addressing_style": "path" if url_style == "path" else "virtual"},
            retries={"mode": "standard", "max_attempts": RETRIES},
            connect_timeout=connect_timeout_s,
            read_timeout=read_timeout_s,
        )
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        try:
            self.client: Any = session.create_client("s3", region_name=region, endpoint_url=endpoint_url, config=config)
        except botocore.exceptions.InvalidRegionError:  # its message quotes the value: a misplaced secret, maybe
            raise LakeConfigError(
                "ROSETTA_S3_REGION is not a region name: give one like eu-west-1 (letters, digits and inner dashes)"
            ) from None
        self.client.meta.events.register("before-send.s3", self._before_try)

    def _before_try(self, request: Any, **kwargs: Any) -> None:
        """Each try (botocore's retries included) waits for its answer no longer than the time left before the
        deadline of the run or request it is made for, and does not start when too little is left: it would only hold
        the run past its function's timeout, or the request past API Gateway's."""
        retry = request.context.get("retries", {}).get("attempt", 1) > 1
        due = self._due_by(retry=retry)
        if due is None:
            return
        instant, whose = due
        wait = (instant - datetime.now(UTC)).total_seconds() - self.connect_timeout_s
        if wait < SHORTEST_WAIT_S:
            raise OutOfTime(f"no time left for a{' further' if retry else ''} try before the {whose}")
        request.context["read_timeout"] = min(self.read_timeout_s, wait)

    def _due_by(self, *, retry: bool) -> tuple[datetime, str] | None:
        """The instant a try must end by, and whose deadline it is: the run's, or the API request's."""
        limits: list[tuple[datetime, str]] = []
        run = run_deadline()
        if run is not None:
            # A retry leaves one whole try's time before the run's deadline: the run's end is recorded in it.
            whole_try = timedelta(seconds=self.connect_timeout_s + self.read_timeout_s)
            limits.append((run - whole_try if retry else run, f"run's deadline ({run.isoformat()})"))
        request = request_deadline()
        if request is not None:
            limits.append((request, "request's deadline"))
        return min(limits, default=None)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def get(self, key: str) -> StoredObject | None:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            # The body is read inside: a connection reset while it comes is the store's error, named as such.
            return StoredObject(response["Body"].read(), response["ETag"])
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                return None
            raise self._explain(exc, f"getting {key}") from None
        except (botocore.exceptions.BotoCoreError, OutOfTime) as exc:
            raise self._explain(exc, f"getting {key}") from None

    def put(self, key: str, data: bytes, *, if_match: str | None = None) -> None:
        extra: dict[str, str] = {}
        if if_match is not None and self.conditional_writes:
            extra = {"IfNoneMatch": "*"} if if_match == ABSENT else {"IfMatch": if_match}
        self._put_object(key, data, extra)

    def put_file(self, key: str, path: Path) -> None:
        # A file body is sent as it is read: a month of hourly signals is tens of megabytes.
        with path.open("rb") as body:
            self._put_object(key, body, {})

    def _put_object(self, key: str, body: bytes | BinaryIO, extra: dict[str, str]) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=body, **extra)
        except botocore.exceptions.ClientError as exc:
            if _code(exc) in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409"):
                raise PreconditionFailed(key) from None
            # S3 answers a replace (If-Match) of an object removed since it was read with 404, not 412.
            if "IfMatch" in extra and _code(exc) in ("NoSuchKey", "404"):
                raise PreconditionFailed(key) from None
            raise self._explain(exc, f"putting {key}") from None
        except (botocore.exceptions.BotoCoreError, OutOfTime) as exc:
            raise self._explain(exc, f"putting {key}") from None

    def folders(self, prefix: str) -> list[str]:
        # With a delimiter S3 answers the folders alone: one request per thousand folders, whatever they hold.
        found: list[str] = []
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix), Delimiter="/"
            )
            for page in pages:
                found += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        except botocore.exceptions.ClientError as exc:
            raise self._explain(exc, f"listing {prefix}") from None
        except (botocore.exceptions.BotoCoreError, OutOfTime) as exc:
            raise self._explain(exc, f"listing {prefix}") from None
        cut = len(self.prefix) + 1 if self.prefix else 0
        return sorted(f[cut:] for f in found)

    def list(self, prefix: str, *, start_after: str | None = None) -> list[str]:
        return sorted(self._versions(prefix, start_after))

    def versions(self, prefix: str) -> dict[str, str]:
        return self._versions(prefix, None)

    def _versions(self, prefix: str, start_after: str | None) -> dict[str, str]:
        # A listing carries each object's ETag: one request per thousand keys, no object read. S3 lists in key
        # order, so StartAfter skips the keys before it without a request for them.
        full = self._key(prefix)
        after = {"StartAfter": self._key(start_after)} if start_after is not None else {}
        tags: dict[str, str] = {}
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full, **after)
            for page in pages:
                tags.update((item["Key"], item["ETag"]) for item in page.get("Contents", []))
        except botocore.exceptions.ClientError as exc:
            raise self._explain(exc, f"listing {prefix}") from None
        except (botocore.exceptions.BotoCoreError, OutOfTime) as exc:
            raise self._explain(exc, f"listing {prefix}") from None
        cut = len(self.prefix) + 1 if self.prefix else 0
        return {k[cut:]: tag for k, tag in tags.items()}

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except botocore.exceptions.ClientError as exc:
            raise self._explain(exc, f"deleting {key}") from None
        except (botocore.exceptions.BotoCoreError, OutOfTime) as exc:
            raise self._explain(exc, f"deleting {key}") from None

    def check(self) -> None:
        """Fail early, with one clear line, if the bucket is missing or the credentials are refused."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, OutOfTime) as exc:
            raise self._explain(exc, "checking the bucket") from None

    def _explain(self, exc: Exception, doing: str | None = None) -> Exception:
        """A one-line error; `doing`: the operation and the key or prefix it was on (`getting state/x.json`), named
        for a refusal or an error of S3's own: a 503 after every retry, or a role without the grant for one prefix,
        is then traced to the object."""
        shown = without_credentials(self.endpoint_url)
        where = f"s3://{self.bucket}" + (f" at {shown}" if shown else "")
        on = f" {doing}" if doing else ""
        if isinstance(exc, botocore.exceptions.NoCredentialsError):
            return LakeAccessError(
                f"no S3 credentials found for {where}: set ROSETTA_S3_ACCESS_KEY_ID/ROSETTA_S3_SECRET_ACCESS_KEY "
                "or the usual AWS variables/profile"
            )
        if isinstance(exc, OutOfTime):
            return LakeAccessError(f"S3 store {where} did not answer in time{on}: {exc}")
        if isinstance(exc, botocore.exceptions.ReadTimeoutError):
            return LakeAccessError(
                f"S3 store {where} did not answer in time{on}: no answer within {self.read_timeout_s:g} s "
                "(ROSETTA_S3_READ_TIMEOUT_S) on any try"
            )
        if isinstance(exc, botocore.exceptions.ConnectTimeoutError):
            return LakeAccessError(
                f"S3 store {where} could not be connected to in time{on}: no connection within "
                f"{self.connect_timeout_s:g} s (ROSETTA_S3_CONNECT_TIMEOUT_S) on any try"
            )
        if isinstance(exc, botocore.exceptions.EndpointConnectionError):
            return LakeAccessError(f"cannot connect to the S3 endpoint for {where}: check ROSETTA_S3_ENDPOINT_URL")
        if isinstance(exc, botocore.exceptions.ClientError):
            code = _code(exc)
            if code in ("NoSuchBucket",) or (code == "404" and exc.operation_name == "HeadBucket"):
                return LakeAccessError(
                    f"bucket {self.bucket!r} does not exist at {where}: create it or fix ROSETTA_LAKE_URL"
                )
            if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "403"):
                return LakeAccessError(
                    f"S3 credentials were rejected by {where} ({code}): check the access key and secret"
                )
            if code == "AccessDenied":
                return LakeAccessError(f"access denied on {where}{on}: the credentials lack permission for it")
            message = exc.response.get("Error", {}).get("Message", "")
            return LakeAccessError(f"S3 error {code} on {where}{on}: {message}")
        # botocore's own message names the request URL, with the endpoint's user and password if it has them.
        detail = str(exc)
        if self.endpoint_url and shown != self.endpoint_url:
            detail = detail.replace(self.endpoint_url.rstrip("/"), str(shown).rstrip("/"))
        return LakeAccessError(f"S3 request to {where} failed{on}: {type(exc).__name__}: {detail}")


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
