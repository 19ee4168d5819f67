"""An embedded S3-compatible server on loopback, so the lake runs with no cloud account.

It is moto's server with authentication switched on: it issues one access key, creates the bucket, and
from then on refuses unknown keys and bad signatures as AWS does. It runs in a child process so that its
global state never mixes with moto mocks used elsewhere in the same interpreter.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from lakehouse.errors import LakeConfigError
from lakehouse.settings import Settings, valid_bucket_name

DEFAULT_BUCKET = "rosetta-lake"
READY_TIMEOUT_S = 60


@dataclass(frozen=True)
class S3Endpoint:
    """How to reach a running S3 store."""

    endpoint_url: str
    bucket: str
    access_key_id: str
    # Out of the repr: pytest prints fixtures of a failing test, and logs print what they are given.
    secret_access_key: str = field(repr=False)
    region: str = "us-east-1"

    def settings(self, prefix: str = "", **overrides: Any) -> Settings:
        url = f"s3://{self.bucket}/{prefix.strip('/')}" if prefix.strip("/") else f"s3://{self.bucket}"
        values: dict[str, Any] = {
            "lake_url": url,
            "s3_endpoint_url": self.endpoint_url,
            "s3_region": self.region,
            "s3_access_key_id": self.access_key_id,
            "s3_secret_access_key": self.secret_access_key,
        }
        return Settings(**(values | overrides))

    def environment(self, prefix: str = "") -> dict[str, str]:
        """The ROSETTA_* variables that point a process at this store."""
        url = f"s3://{self.bucket}/{prefix.strip('/')}" if prefix.strip("/") else f"s3://{self.bucket}"
        return {
            "ROSETTA_LAKE_URL": url,
            "ROSETTA_S3_ENDPOINT_URL": self.endpoint_url,
            "ROSETTA_S3_REGION": self.region,
            "ROSETTA_S3_ACCESS_KEY_ID": self.access_key_id,
            "ROSETTA_S3_SECRET_ACCESS_KEY": self.secret_access_key,
        }


class EmbeddedS3:
    """Start/stop the embedded server in a child process; a context manager."""

    def __init__(self, *, bucket: str = DEFAULT_BUCKET, host: str = "127.0.0.1", port: int = 0) -> None:
        self.bucket, self.host, self.port = bucket, host, port
        self._process: subprocess.Popen[str] | None = None
        self.endpoint: S3Endpoint | None = None

    def start(self) -> S3Endpoint:
        command = [
            sys.executable,
            "-m",
            "lakehouse.local_s3",
            "--bucket",
            self.bucket,
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--json",
            "--stop-when-stdin-closes",
        ]
        # The pipe to its stdin is held by this process alone, so the system closes it when this process ends in
        # any way, a kill included: the server then stops on its own instead of outliving a test run or a demo.
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        line = _read_line(self._process.stdout, READY_TIMEOUT_S)
        if not line:
            self.stop()
            raise LakeConfigError(f"the embedded S3 server did not start on {self.host}:{self.port}")
        self.endpoint = S3Endpoint(**json.loads(line))
        return self.endpoint

    def stop(self) -> None:
        if self._process and self._process.stdin:
            self._process.stdin.close()
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
        if self._process and self._process.stdout:
            self._process.stdout.close()  # else left to the garbage collector, which warns of an unclosed file
        self._process = None

    def __enter__(self) -> S3Endpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_line(stream: IO[str] | None, timeout: float) -> str:
    result: list[str] = []
    reader = threading.Thread(target=lambda: result.append(stream.readline() if stream else ""), daemon=True)
    reader.start()
    reader.join(timeout)
    return result[0].strip() if result else ""


def _compute_etags_under_the_object_lock() -> None:
    """moto computes an object's ETag lazily by reading the object's buffer without the lock its reads of the
    body take. A GET racing the first computation moves the other's read position: the GET can return an empty
    or partial body, and the ETag, cached for good, can be the MD5 of part of the body. Two versions can then
    share an ETag and a stale If-Match pass, and the lake's merge-on-write relies on that check, so here the
    ETag is computed under the object's lock."""
    from moto.s3.models import FakeKey

    etag: property = FakeKey.__dict__["etag"]
    compute = etag.fget
    assert compute is not None

    def etag_under_lock(key: FakeKey) -> str:
        with key.lock:
            return compute(key)

    FakeKey.etag = property(etag_under_lock)  # type: ignore[method-assign,assignment]


def _port_free(host: str, port: int) -> None:
    """LakeConfigError unless the port can be bound: moto's server, on a port in use, gives up in its own thread and
    leaves its start waiting for ever; so too on an address this machine does not have, whatever the port (0 is
    bound to check the address)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds it
        try:
            probe.bind((host, port))
        except OSError as exc:
            remedy = "give another --port (0 picks a free one)" if port else "give one of this machine's addresses"
            raise LakeConfigError(
                f"cannot serve the embedded S3 store on {host}:{port}: {exc.strerror}; {remedy}"
            ) from None


def serve(bucket: str, host: str, port: int) -> tuple[Any, S3Endpoint]:
    """Start moto's S3 in this process with authentication on. Returns (server, endpoint)."""
    import boto3
    from moto import settings as moto_settings
    from moto.server import ThreadedMotoServer

    if not valid_bucket_name(bucket):
        raise LakeConfigError(
            f"{bucket!r} is no S3 bucket name: 3 to 63 lower-case letters, digits, dots and hyphens, a letter or digit "
            "at each end"
        )
    _port_free(host, port)
    _compute_etags_under_the_object_lock()

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    url = f"http://{bound_host}:{bound_port}"
    # Until authentication is switched on, any key is accepted: use it to issue the real one.
    bootstrap = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "bootstrap",
        "aws_secret_access_key": "bootstrap",
    }
    iam = boto3.client("iam", **bootstrap)
    iam.create_user(UserName="rosetta-lake")
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    iam.put_user_policy(UserName="rosetta-lake", PolicyName="lake", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="rosetta-lake")["AccessKey"]
    boto3.client("s3", **bootstrap).create_bucket(Bucket=bucket)
    moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    return server, S3Endpoint(url, bucket, key["AccessKeyId"], key["SecretAccessKey"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rosetta-monitoring local-s3", description=__doc__)
    parser.add_argument("--bucket", default=DEFAULT_BUCKET)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--json", action="store_true", help="print the endpoint as one JSON line (for programs)")
    parser.add_argument(
        "--stop-when-stdin-closes",
        action="store_true",
        help="stop when standard input reaches its end (a program that starts the server holds it open)",
    )
    args = parser.parse_args(argv)
    # Credentials must not come from the caller's AWS profile; moto only needs them to be present.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bootstrap")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bootstrap")
    server, endpoint = serve(args.bucket, args.host, args.port)
    if args.json:
        print(json.dumps(asdict(endpoint)), flush=True)
    else:
        print(f"Embedded S3 server on {endpoint.endpoint_url}, bucket {endpoint.bucket!r}. Point the lake at it with:")
        for name, value in endpoint.environment().items():
            print(f"  export {name}={value}")
        print("Ctrl-C to stop.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.stop_when_stdin_closes:

        def stop_at_end_of_input() -> None:
            sys.stdin.read()
            stop.set()

        threading.Thread(target=stop_at_end_of_input, daemon=True).start()
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
