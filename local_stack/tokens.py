"""Development JWTs for the local stack, signed with a local RSA key (RS256, as Uku's identity provider signs)."""

from __future__ import annotations

import argparse
import time
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from local_stack.template import REPO_ROOT

LOCAL_ISSUER = "https://auth.uku.local/dev"
LOCAL_AUDIENCE = "uku-smartaccounts-sync"
KEY_PATH = REPO_ROOT / ".local" / "dev-jwt-key.pem"
ROLES = ("owner", "admin", "member")
PLANS = ("free", "team", "elite")


@lru_cache(maxsize=4)
def signing_key(path: Path = KEY_PATH) -> rsa.RSAPrivateKey:
    """The local signing key, created on first use and kept out of git (`.local/`); loaded once per process."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)
    return key


def issue_token(
    company: str,
    role: str = "owner",
    plan: str = "team",
    *,
    sub: str | None = None,
    issuer: str = LOCAL_ISSUER,
    audience: str = LOCAL_AUDIENCE,
    ttl_seconds: int = 12 * 3600,
    now: float | None = None,
    key: rsa.RSAPrivateKey | None = None,
) -> str:
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": sub or f"user-{company}-{role}",
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl_seconds,
        "jti": str(uuid.uuid4()),
        "uku:companyId": company,
        "uku:role": role,
        "uku:plan": plan,
    }
    return jwt.encode(claims, key or signing_key(), algorithm="RS256", headers={"kid": "local-dev"})


def verify_token(
    token: str, *, issuer: str = LOCAL_ISSUER, audience: str = LOCAL_AUDIENCE, key: rsa.RSAPrivateKey | None = None
) -> dict[str, Any]:
    """Checks signature, issuer, audience and expiry the way API Gateway's JWT authorizer does."""
    public = (key or signing_key()).public_key()
    return jwt.decode(
        token,
        public,
        algorithms=["RS256"],
        issuer=issuer,
        audience=audience,
        options={"require": ["exp", "iss", "aud"]},
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print a development JWT accepted by the local stack.")
    parser.add_argument("--company", required=True)
    parser.add_argument("--role", default="owner", choices=ROLES)
    parser.add_argument("--plan", default="team", choices=PLANS)
    parser.add_argument("--sub")
    parser.add_argument("--ttl", type=int, default=12 * 3600, help="lifetime in seconds")
    args = parser.parse_args(argv)
    print(f"# dev token: company={args.company} role={args.role} plan={args.plan} (valid {args.ttl} s)")
    print(issue_token(args.company, args.role, args.plan, sub=args.sub, ttl_seconds=args.ttl))


if __name__ == "__main__":
    main()
