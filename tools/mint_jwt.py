#!/usr/bin/python3
"""Prints a JWT for trying ngx_wa_pair by hand and in tests (a development tool).

The key is the secret file's raw bytes with one trailing newline (\\n or \\r\\n) removed,
exactly as the module reads `wa_pair_jwt_secret_file`. The device id goes in the claim
named by --claim (default device_id, the claim go-whatsapp-multi-session-rest-api uses).

  /usr/bin/python3 tools/mint_jwt.py --secret-file run/jwt.secret --device-id demo-device
  --ttl 0 mints a token without exp (like the upstream project's); a negative ttl an expired one.
"""
import argparse
import sys
import time

import jwt  # PyJWT, Debian package python3-jwt


def read_secret(path):
    with open(path, "rb") as f:
        secret = f.read()
    for newline in (b"\r\n", b"\n"):
        if secret.endswith(newline):
            return secret[: -len(newline)]
    return secret


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--secret-file", required=True, metavar="PATH")
    ap.add_argument("--device-id", required=True, metavar="ID")
    ap.add_argument("--ttl", type=int, default=3600, metavar="SECONDS",
                    help="lifetime (default 3600; 0: no exp claim; negative: already expired)")
    ap.add_argument("--claim", choices=("device_id", "sub"), default="device_id")
    ap.add_argument("--alg", choices=("HS256", "HS384", "HS512"), default="HS256")
    args = ap.parse_args()
    try:
        secret = read_secret(args.secret_file)
    except OSError as e:
        sys.exit(f"mint_jwt: {e}")
    if not secret:
        sys.exit(f"mint_jwt: {args.secret_file} is empty (the module refuses it too)")
    now = int(time.time())
    claims = {args.claim: args.device_id, "iat": now}
    if args.ttl:
        claims["exp"] = now + args.ttl
    print(jwt.encode(claims, secret, algorithm=args.alg))


if __name__ == "__main__":
    main()
