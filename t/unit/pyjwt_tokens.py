#!/usr/bin/python3
"""Tokens minted by PyJWT (an independent JWT implementation) for t/unit/jwt_test.cpp.

Run with Debian's /usr/bin/python3 (python3-jwt). Prints one token per line, fields separated
by one TAB:

    name  secret_hex  device_claim  leeway  now  expect  token

`secret_hex` is the secret the verifier is configured with (hex of the raw bytes), `now` the
clock it is given, and `expect` either "ok:<device id>" or "bad_jwt" (the token must be
refused with "Invalid or expired JWT token"). Lines starting with '#' are comments. The output
is deterministic: every time in a token is derived from NOW, never from the real clock.
"""

import datetime
import sys

import jwt

NOW = 1700000000  # 2023-11-14T22:13:20Z
FAR_FUTURE = 4102444800  # 2100-01-01: tokens without exp never expire

SECRET = b"wa-pair unit test secret, 32 b!!"
SECRET_384 = b"wa-pair unit test secret for HS384, 48 bytes!!!"
SECRET_512 = b"wa-pair unit test secret for HS512: sixty-four bytes of key.....!"
BINARY_SECRET = bytes([0x00, 0x0A, 0xFF, 0x0D, 0x80, 0x7F, 0x20, 0x00]) * 4
OTHER_SECRET = b"not the configured secret at all"

ROWS = []


def row(name, payload, expect, secret=SECRET, alg="HS256", now=NOW, leeway=0,
        claim="device_id", headers=None, signing_secret=None):
    key = secret if signing_secret is None else signing_secret
    if alg == "none":
        key = None
    token = jwt.encode(payload, key, algorithm=alg, headers=headers)
    if isinstance(token, bytes):  # PyJWT 1.x
        token = token.decode("ascii")
    ROWS.append((name, secret.hex(), claim, str(leeway), str(now), expect, token))


# The three allowed algorithms, the device id from device_id, sub, or both.
row("hs256_device_id", {"device_id": "dev-42"}, "ok:dev-42")
row("hs384_device_id", {"device_id": "dev-384"}, "ok:dev-384", secret=SECRET_384, alg="HS384")
row("hs512_device_id", {"device_id": "dev-512"}, "ok:dev-512", secret=SECRET_512, alg="HS512")
row("hs256_sub_only", {"sub": "dev-sub"}, "ok:dev-sub")
row("hs384_sub_only", {"sub": "dev-sub-384"}, "ok:dev-sub-384", secret=SECRET_384, alg="HS384")
row("hs512_both_device_id_wins", {"sub": "dev-b", "device_id": "dev-a"}, "ok:dev-a",
    secret=SECRET_512, alg="HS512")
row("device_id_null_falls_back_to_sub", {"device_id": None, "sub": "dev-sub"}, "ok:dev-sub")
row("device_id_integer", {"device_id": 42}, "ok:42")
row("device_id_128_bytes", {"device_id": "d" * 128}, "ok:" + "d" * 128)
row("binary_secret", {"device_id": "dev-bin"}, "ok:dev-bin", secret=BINARY_SECRET)
row("configured_claim", {"uid": "u-7", "device_id": "dev-42"}, "ok:u-7", claim="uid")
row("configured_claim_falls_back_to_sub", {"device_id": "dev-42", "sub": "s-1"}, "ok:s-1",
    claim="uid")
row("kid_header_ignored", {"device_id": "dev-kid"}, "ok:dev-kid", headers={"kid": "k1"})
row("typ_lower_case", {"device_id": "dev-typ"}, "ok:dev-typ", headers={"typ": "jwt"})

# go-whatsapp-multi-session-rest-api's device tokens: HS256, no exp. First the shape named in
# the design, then the claims as golang-jwt orders them (with iat and nbf).
row("origin_shape",
    {"device_id": "dev-42", "sub": "dev-42", "api_key_id": 7, "version": 1},
    "ok:dev-42", now=FAR_FUTURE)
row("origin_golang_jwt_claims",
    {"device_id": "3f2c9a52-1b7e-4c1a-9d2e-5b8f0c6a7d11", "api_key_id": 7, "version": 3,
     "sub": "3f2c9a52-1b7e-4c1a-9d2e-5b8f0c6a7d11", "iat": NOW - 86400, "nbf": NOW - 86400},
    "ok:3f2c9a52-1b7e-4c1a-9d2e-5b8f0c6a7d11")

# exp and nbf, with and without leeway.
row("exp_in_future", {"device_id": "dev-exp", "exp": NOW + 60}, "ok:dev-exp")
row("exp_as_datetime",
    {"device_id": "dev-dt",
     "exp": datetime.datetime.fromtimestamp(NOW + 60, tz=datetime.timezone.utc)},
    "ok:dev-dt")
row("exp_fractional", {"device_id": "dev-frac", "exp": NOW + 0.5}, "ok:dev-frac")
row("exp_equals_now", {"device_id": "dev-exp", "exp": NOW}, "bad_jwt")
row("exp_in_past", {"device_id": "dev-exp", "exp": NOW - 3600}, "bad_jwt")
row("exp_within_leeway", {"device_id": "dev-exp", "exp": NOW - 29}, "ok:dev-exp", leeway=30)
row("exp_beyond_leeway", {"device_id": "dev-exp", "exp": NOW - 30}, "bad_jwt", leeway=30)
row("nbf_in_past", {"device_id": "dev-nbf", "nbf": NOW - 60}, "ok:dev-nbf")
row("nbf_equals_now", {"device_id": "dev-nbf", "nbf": NOW}, "ok:dev-nbf")
row("nbf_in_future", {"device_id": "dev-nbf", "nbf": NOW + 1}, "bad_jwt")
row("nbf_within_leeway", {"device_id": "dev-nbf", "nbf": NOW + 30}, "ok:dev-nbf", leeway=30)
row("nbf_beyond_leeway", {"device_id": "dev-nbf", "nbf": NOW + 31}, "bad_jwt", leeway=30)
row("exp_and_nbf_valid", {"device_id": "dev-both", "nbf": NOW - 10, "exp": NOW + 10},
    "ok:dev-both", secret=SECRET_512, alg="HS512")

# Refused although PyJWT minted them.
row("wrong_secret", {"device_id": "dev-42"}, "bad_jwt", signing_secret=OTHER_SECRET)
row("alg_none", {"device_id": "dev-42"}, "bad_jwt", alg="none")
row("typ_jose_json", {"device_id": "dev-42"}, "bad_jwt", headers={"typ": "JOSE+JSON"})
row("aud_present", {"device_id": "dev-42", "aud": "another-service"}, "bad_jwt")
row("no_device_id_no_sub", {"api_key_id": 7, "version": 1}, "bad_jwt")
row("device_id_with_space", {"device_id": "dev 42"}, "bad_jwt")
row("device_id_with_control_char", {"device_id": "dev\u000142"}, "bad_jwt")
row("device_id_129_bytes", {"device_id": "d" * 129}, "bad_jwt")
row("device_id_empty", {"device_id": "", "sub": "dev-sub"}, "bad_jwt")
row("device_id_non_ascii", {"device_id": "d\u00e9v"}, "bad_jwt")
row("exp_as_string", {"device_id": "dev-42", "exp": str(NOW + 60)}, "bad_jwt")

out = sys.stdout
out.write("# PyJWT %s; fields: name secret_hex device_claim leeway now expect token\n"
          % jwt.__version__)
for fields in ROWS:
    out.write("\t".join(fields) + "\n")
