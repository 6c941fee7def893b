"""Signing Bedrock Runtime calls with a key's AWS access key (Signature Version 4), per request.

botocore signs (its ``SigV4Auth``, the signer boto3 itself uses); nothing
else of it is used, so the call still goes out through the guarded egress on
the gateway's own pooled session. A signature covers the method, the exact
URL path, the host, the time and the body's hash, so it is made for each
request (tens of microseconds) with the body that is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from keys.aws import AwsCredentials

SERVICE = "bedrock"  # Bedrock Runtime's signing name


@dataclass(eq=False)
class AwsSigner:
    region: str
    _auth: SigV4Auth = field(repr=False)

    @classmethod
    def for_key(cls, credentials: AwsCredentials, region: str) -> AwsSigner:
        botocore_credentials = Credentials(
            credentials.access_key_id, credentials.secret_access_key, credentials.session_token or None
        )
        return cls(region, SigV4Auth(botocore_credentials, SERVICE, region))

    def sign(self, url: str, headers: dict[str, str], body: bytes) -> dict[str, str]:
        """``headers`` plus ``Authorization``, ``X-Amz-Date`` (and the session token) for this POST."""
        request = AWSRequest(method="POST", url=url, data=body, headers=headers)
        self._auth.add_auth(request)
        return dict(request.headers.items())
