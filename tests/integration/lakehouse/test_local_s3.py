"""The embedded S3 store's handle, as pytest and logs show it."""

from __future__ import annotations

from dataclasses import asdict

from lakehouse.local_s3 import S3Endpoint


def test_an_endpoint_s_repr_never_shows_its_secret_key(s3_endpoint: S3Endpoint) -> None:
    """pytest prints a failing test's fixtures and a log line may print the handle: its repr names the store, the
    bucket and the access key id, never the secret key the embedded server issued. The child process hands the
    handle over as JSON, so asdict still carries the secret."""
    shown = repr(s3_endpoint)
    assert s3_endpoint.secret_access_key not in shown
    assert s3_endpoint.endpoint_url in shown and "'rosetta-test'" in shown and s3_endpoint.access_key_id in shown
    assert asdict(s3_endpoint)["secret_access_key"] == s3_endpoint.secret_access_key
