"""moto's S3 server on 127.0.0.1, for the object-storage tests.

Started once per test session in its own process group (`python -m moto.server`), with IAM
enforcement on: after the first three requests, which make an administrator (a user, its access
key, an allow-all policy), every request must be signed by a known key, and a user without a
policy is denied, as AWS would. So the tests see real "unknown key", "wrong secret" and
"access denied" answers, not stand-ins.

Each test gets a bucket of its own and sets the AWS variables itself (`Bucket.enter`), as a CI
job or a laptop would. The instance metadata service is switched off and the shared
configuration files pointed at nothing, so no client ever looks beyond 127.0.0.1 for
credentials.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import waits
from support.mlflow_server import free_port, stop_group

REGION = "us-east-1"
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
SETUP_REQUESTS = 3
"""Requests moto serves unauthenticated: those that make the administrator."""


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str


class MotoS3:
    """`with MotoS3(folder) as s3:` gives `s3.url`, `s3.admin` keys and `s3.user(...)`.

    With `iam=False` every request is allowed, as on a bucket the client may read: moto's IAM
    check cannot verify presigned URLs (it answers them with a 500), which MLflow's clients
    use to download artifacts straight from a server's S3 artifact store.
    """

    def __init__(self, folder: Path, *, startup_timeout: float = 60.0, iam: bool = True) -> None:
        self.folder = folder
        self.iam = iam
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "moto.log"
        self.startup_timeout = startup_timeout
        self.admin = Keys("", "")
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> MotoS3:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        if self.iam:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(SETUP_REQUESTS)
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        with self.log.open("wb") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        waits.announce(
            f"starting moto's S3 server on {self.url} (up to {self.startup_timeout:.0f} s)"
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited early:\n{self.log.read_text()[-3000:]}")
            try:
                # moto's own API: answers without counting as an AWS request.
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"moto server did not answer in {self.startup_timeout:.0f} s")
        if not self.iam:
            self.admin = Keys("testing", "testing")
            return
        iam = self._client("iam", Keys("testing", "testing"))
        iam.create_user(UserName="admin")
        key = iam.create_access_key(UserName="admin")["AccessKey"]
        iam.put_user_policy(
            UserName="admin", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL)
        )
        self.admin = Keys(key["AccessKeyId"], key["SecretAccessKey"])

    def stop(self) -> None:
        stop_group(self._process)

    # -- clients and users ---------------------------------------------------------------

    def _client(self, service: str, keys: Keys) -> Any:
        import boto3

        session = boto3.session.Session(
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            region_name=REGION,
        )
        return session.client(service, endpoint_url=self.url)

    def client(self, keys: Keys | None = None) -> Any:
        """An S3 client acting as `keys` (the administrator by default)."""
        return self._client("s3", keys or self.admin)

    def user(self, policy: dict[str, Any] | None = None) -> Keys:
        """A new IAM user's keys; with no policy it may do nothing at all."""
        iam = self._client("iam", self.admin)
        name = f"user-{uuid.uuid4().hex[:8]}"
        iam.create_user(UserName=name)
        if policy is not None:
            iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        return Keys(key["AccessKeyId"], key["SecretAccessKey"])

    def environment(self, keys: Keys | None = None) -> dict[str, str]:
        """The variables a process needs to reach this server as `keys` (admin by default):
        for pyarrow and boto3 (AWS_*), and for MLflow's S3 artifact store."""
        keys = keys or self.admin
        return {
            **no_aws_lookups(),
            "AWS_ACCESS_KEY_ID": keys.access_key_id,
            "AWS_SECRET_ACCESS_KEY": keys.secret_access_key,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.url,
            "MLFLOW_S3_ENDPOINT_URL": self.url,
        }

    def bucket(self, *, versioned: bool = False) -> Bucket:
        """A new, empty bucket of its own."""
        name = f"bucket-{uuid.uuid4().hex[:12]}"
        client = self.client()
        client.create_bucket(Bucket=name)
        if versioned:
            client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        return Bucket(self, name)


def no_aws_lookups() -> dict[str, str]:
    """No instance metadata service, no shared configuration files: credentials come from
    the environment or nowhere."""
    return {
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


@dataclass(frozen=True)
class Bucket:
    server: MotoS3
    name: str

    def uri(self, key: str) -> str:
        return f"s3://{self.name}/{key}"

    def put(self, key: str, source: Path) -> str:
        """Upload a local file; returns its URI."""
        self.server.client().upload_file(str(source), self.name, key)
        return self.uri(key)

    def get(self, key: str, target: Path) -> Path:
        self.server.client().download_file(self.name, key, str(target))
        return target

    def keys(self, prefix: str = "") -> list[str]:
        """Every key in the bucket (under `prefix`), sorted."""
        paginator = self.server.client().get_paginator("list_objects_v2")
        found = []
        for page in paginator.paginate(Bucket=self.name, Prefix=prefix):
            found += [item["Key"] for item in page.get("Contents", [])]
        return sorted(found)

    def head(self, key: str) -> dict[str, Any]:
        return self.server.client().head_object(Bucket=self.name, Key=key)

    def enter(self, monkeypatch: Any, keys: Keys | None = None) -> None:
        """Set this server's AWS variables (as `keys`) for the test."""
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            monkeypatch.delenv(name)
        for key, value in self.server.environment(keys).items():
            monkeypatch.setenv(key, value)
