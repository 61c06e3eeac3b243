#!/usr/bin/python3
"""Tokens minted by PyJWT (an independent JWT implementation) for t/unit/jose/pyjwt_test.cpp.

Run with Debian's /usr/bin/python3 (python3-jwt, python3-cryptography). Prints one token per
line, fields separated by one TAB:

    name  keys  algorithms  device_claim  leeway  now  expect  token

`keys` is what the verifier is configured with: comma-separated specs, each "hs:<hex of the
raw secret>" (wa_pair_jwt_secret_file), "pem:<base64url of a PEM file>" or "jwks:<base64url of
a JWK Set file>" (wa_pair_jwt_key_file). The PEM and JWK files are written by the
`cryptography` package and PyJWT's to_jwk, not by the module. `algorithms` is "-" (the default
allow-list) or a comma-separated wa_pair_jwt_algorithms. `now` is the clock the verifier is
given, and `expect` either "ok:<device id>" or "bad_jwt" (the token must be refused with
"Invalid or expired JWT token"). Lines starting with '#' are comments. The keys are made anew at
every run; every time in a token is derived from NOW, never from the real clock.
"""

import base64
import datetime
import hashlib
import hmac
import json
import sys

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from jwt.algorithms import ECAlgorithm, HMACAlgorithm, OKPAlgorithm, RSAAlgorithm

NOW = 1700000000  # 2023-11-14T22:13:20Z
FAR_FUTURE = 4102444800  # 2100-01-01: tokens without exp never expire

SECRET = b"wa-pair unit test secret, 32 b!!"
SECRET_384 = b"wa-pair unit test secret for HS384, 48 bytes!!!"
SECRET_512 = b"wa-pair unit test secret for HS512: sixty-four bytes of key.....!"
BINARY_SECRET = bytes([0x00, 0x0A, 0xFF, 0x0D, 0x80, 0x7F, 0x20, 0x00]) * 4
OTHER_SECRET = b"not the configured secret at all"

ROWS = []


def b64(data):
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hs(secret):
    return "hs:" + secret.hex()


def pem(public_key, fmt=serialization.PublicFormat.SubjectPublicKeyInfo):
    return "pem:" + b64(public_key.public_bytes(serialization.Encoding.PEM, fmt))


def jwk_of(public_key, **members):
    if isinstance(public_key, bytes):
        d = json.loads(HMACAlgorithm.to_jwk(public_key))
    elif isinstance(public_key, rsa.RSAPublicKey):
        d = json.loads(RSAAlgorithm.to_jwk(public_key))
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        d = json.loads(ECAlgorithm.to_jwk(public_key))
    else:
        d = json.loads(OKPAlgorithm.to_jwk(public_key))
    d.update(members)
    return d


def jwks(*keys):
    return "jwks:" + b64(json.dumps({"keys": list(keys)}))


def row(name, payload, expect, keys=None, alg="HS256", signing_key=SECRET, now=NOW, leeway=0,
        claim="device_id", headers=None, algorithms="-"):
    if alg == "none":
        keys = keys if keys is not None else hs(signing_key)
        signing_key = None
    token = jwt.encode(payload, signing_key, algorithm=alg, headers=headers)
    if isinstance(token, bytes):  # PyJWT 1.x
        token = token.decode("ascii")
    raw_row(name, token, expect, keys if keys is not None else hs(signing_key), now, leeway,
            claim, algorithms)


def raw_row(name, token, expect, keys, now=NOW, leeway=0, claim="device_id", algorithms="-"):
    ROWS.append((name, keys, algorithms, claim, str(leeway), str(now), expect, token))


# The three allowed algorithms, the device id from device_id, sub, or both.
row("hs256_device_id", {"device_id": "dev-42"}, "ok:dev-42")
row("hs384_device_id", {"device_id": "dev-384"}, "ok:dev-384", signing_key=SECRET_384, alg="HS384")
row("hs512_device_id", {"device_id": "dev-512"}, "ok:dev-512", signing_key=SECRET_512, alg="HS512")
row("hs256_sub_only", {"sub": "dev-sub"}, "ok:dev-sub")
row("hs384_sub_only", {"sub": "dev-sub-384"}, "ok:dev-sub-384", signing_key=SECRET_384, alg="HS384")
row("hs512_both_device_id_wins", {"sub": "dev-b", "device_id": "dev-a"}, "ok:dev-a",
    signing_key=SECRET_512, alg="HS512")
row("device_id_null_falls_back_to_sub", {"device_id": None, "sub": "dev-sub"}, "ok:dev-sub")
row("device_id_integer", {"device_id": 42}, "ok:42")
row("device_id_128_bytes", {"device_id": "d" * 128}, "ok:" + "d" * 128)
row("binary_secret", {"device_id": "dev-bin"}, "ok:dev-bin", signing_key=BINARY_SECRET)
row("configured_claim", {"uid": "u-7", "device_id": "dev-42"}, "ok:u-7", claim="uid")
row("configured_claim_falls_back_to_sub", {"device_id": "dev-42", "sub": "s-1"}, "ok:s-1",
    claim="uid")
# The secret file's key has no kid: a token naming one is not for it.
row("kid_unknown_to_the_secret", {"device_id": "dev-kid"}, "bad_jwt", headers={"kid": "k1"})
row("kid_selects_oct_jwk", {"device_id": "dev-kid"}, "ok:dev-kid", headers={"kid": "k1"},
    keys=jwks(jwk_of(OTHER_SECRET, kid="k0"), jwk_of(SECRET, kid="k1")))
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
    "ok:dev-both", signing_key=SECRET_512, alg="HS512")

# Refused although PyJWT minted them.
row("wrong_secret", {"device_id": "dev-42"}, "bad_jwt", keys=hs(SECRET), signing_key=OTHER_SECRET)
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

# ---------------------------------------------------------------- asymmetric algorithms

RSA_1 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_2 = rsa.generate_private_key(public_exponent=65537, key_size=3072)
P256 = ec.generate_private_key(ec.SECP256R1())
P256_OTHER = ec.generate_private_key(ec.SECP256R1())
P384 = ec.generate_private_key(ec.SECP384R1())
P521 = ec.generate_private_key(ec.SECP521R1())
ED25519 = ed25519.Ed25519PrivateKey.generate()
ED25519_OTHER = ed25519.Ed25519PrivateKey.generate()
PKCS1 = serialization.PublicFormat.PKCS1

ASYMMETRIC = [  # alg, private key, its curve's other keys do not verify it
    ("RS256", RSA_1), ("RS384", RSA_1), ("RS512", RSA_2),
    ("PS256", RSA_1), ("PS384", RSA_2), ("PS512", RSA_1),
    ("ES256", P256), ("ES384", P384), ("ES512", P521),
    ("EdDSA", ED25519),
]

ALL_KEYS_JWKS = jwks(
    jwk_of(RSA_1.public_key(), kid="rsa-1"), jwk_of(RSA_2.public_key(), kid="rsa-2"),
    jwk_of(P256.public_key(), kid="p256"), jwk_of(P384.public_key(), kid="p384"),
    jwk_of(P521.public_key(), kid="p521"), jwk_of(ED25519.public_key(), kid="ed"),
    jwk_of(SECRET, kid="hmac"))
KID = {id(RSA_1): "rsa-1", id(RSA_2): "rsa-2", id(P256): "p256", id(P384): "p384",
       id(P521): "p521", id(ED25519): "ed"}

for alg, key in ASYMMETRIC:
    n = alg.lower()
    pub = key.public_key()
    claims = {"device_id": "dev-" + n, "exp": NOW + 600, "iat": NOW - 5}
    # every algorithm: a PEM public key, a JWK Set with kids, a lone JWK with its "alg"
    row(n + "_pem", claims, "ok:dev-" + n, keys=pem(pub), alg=alg, signing_key=key)
    row(n + "_jwks_kid", claims, "ok:dev-" + n, keys=ALL_KEYS_JWKS, alg=alg, signing_key=key,
        headers={"kid": KID[id(key)]})
    row(n + "_jwks_no_kid", claims, "ok:dev-" + n, keys=ALL_KEYS_JWKS, alg=alg, signing_key=key)
    row(n + "_jwk_with_alg", claims, "ok:dev-" + n,
        keys="jwks:" + b64(json.dumps(jwk_of(pub, alg=alg, use="sig"))), alg=alg, signing_key=key)
    row(n + "_allow_listed", claims, "ok:dev-" + n, keys=pem(pub) + "," + hs(SECRET), alg=alg,
        signing_key=key, algorithms=alg + ",HS256")
    # and refused: another kid, expired, not allowed, the wrong key, a tampered payload
    row(n + "_jwks_wrong_kid", claims, "bad_jwt", keys=ALL_KEYS_JWKS, alg=alg, signing_key=key,
        headers={"kid": "hmac" if alg != "EdDSA" else "p256"})
    row(n + "_jwks_unknown_kid", claims, "bad_jwt", keys=ALL_KEYS_JWKS, alg=alg, signing_key=key,
        headers={"kid": "../../etc/passwd"})
    row(n + "_expired", dict(claims, exp=NOW - 1), "bad_jwt", keys=pem(pub), alg=alg,
        signing_key=key)
    row(n + "_not_on_allow_list", claims, "bad_jwt", keys=pem(pub) + "," + hs(SECRET), alg=alg,
        signing_key=key, algorithms="HS256")
    token = jwt.encode(claims, key, algorithm=alg)
    h, p, sig = token.split(".")
    raw_row(n + "_payload_swapped", h + "." + b64(json.dumps(dict(claims, device_id="admin"))) +
            "." + sig, "bad_jwt", pem(pub))

row("rs256_pkcs1_pem", {"device_id": "dev-pkcs1"}, "ok:dev-pkcs1",
    keys=pem(RSA_1.public_key(), PKCS1), alg="RS256", signing_key=RSA_1)
row("ps256_pkcs1_pem", {"device_id": "dev-pkcs1"}, "ok:dev-pkcs1",
    keys=pem(RSA_2.public_key(), PKCS1), alg="PS256", signing_key=RSA_2)
row("rs256_other_rsa_key", {"device_id": "dev-42"}, "bad_jwt", keys=pem(RSA_2.public_key()),
    alg="RS256", signing_key=RSA_1)
row("es256_other_p256_key", {"device_id": "dev-42"}, "bad_jwt",
    keys=pem(P256_OTHER.public_key()), alg="ES256", signing_key=P256)
row("eddsa_other_key", {"device_id": "dev-42"}, "bad_jwt", keys=pem(ED25519_OTHER.public_key()),
    alg="EdDSA", signing_key=ED25519)
row("es256_signed_by_p384_key", {"device_id": "dev-42"}, "bad_jwt",
    keys=pem(P384.public_key()), alg="ES256", signing_key=P384)
row("es512_signed_by_p256_key", {"device_id": "dev-42"}, "bad_jwt",
    keys=pem(P256.public_key()) + "," + pem(P521.public_key()), alg="ES512", signing_key=P256)
row("jwk_alg_pins_the_algorithm", {"device_id": "dev-42"}, "bad_jwt",
    keys="jwks:" + b64(json.dumps(jwk_of(RSA_1.public_key(), alg="RS256"))), alg="RS512",
    signing_key=RSA_1)
row("origin_claims_rs256", {"device_id": "dev-42", "sub": "dev-42", "api_key_id": 7, "version": 4},
    "ok:dev-42", keys=pem(RSA_1.public_key()), alg="RS256", signing_key=RSA_1, now=FAR_FUTURE)


def raw_signed(header, payload, sign):
    signing_input = b64(json.dumps(header)) + "." + b64(json.dumps(payload))
    return signing_input + "." + b64(sign(signing_input.encode()))


# Algorithm confusion: the RSA public key's PEM used as an HMAC secret (CVE-2015-9235 and
# kin). PyJWT refuses to mint it, so it is signed by hand.
RSA_PEM = RSA_1.public_key().public_bytes(serialization.Encoding.PEM,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
for n, keys, algorithms in [("hs256_with_rsa_pem_as_secret", pem(RSA_1.public_key()), "-"),
                            ("hs256_with_rsa_pem_as_secret_allowed", pem(RSA_1.public_key()),
                             "HS256,RS256"),
                            ("hs256_with_rsa_pem_as_secret_and_a_secret",
                             pem(RSA_1.public_key()) + "," + hs(SECRET), "-")]:
    raw_row(n, raw_signed({"alg": "HS256", "typ": "JWT"}, {"device_id": "admin"},
                          lambda m: hmac.new(RSA_PEM, m, hashlib.sha256).digest()),
            "bad_jwt", keys, algorithms=algorithms)
# RS256 signed, PS256 claimed, and the other way round; an ES256 signature in DER, not R||S.
raw_row("ps256_header_rs256_signature",
        raw_signed({"alg": "PS256"}, {"device_id": "dev-42"},
                   lambda m: RSA_1.sign(m, padding.PKCS1v15(), hashes.SHA256())),
        "bad_jwt", pem(RSA_1.public_key()))
raw_row("rs256_header_ps256_signature",
        raw_signed({"alg": "RS256"}, {"device_id": "dev-42"},
                   lambda m: RSA_1.sign(m, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                       salt_length=32), hashes.SHA256())),
        "bad_jwt", pem(RSA_1.public_key()))
raw_row("ps256_salt_length_max",
        raw_signed({"alg": "PS256"}, {"device_id": "dev-42"},
                   lambda m: RSA_1.sign(m, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                       salt_length=padding.PSS.MAX_LENGTH),
                                        hashes.SHA256())),
        "bad_jwt", pem(RSA_1.public_key()))
raw_row("ps256_by_hand",
        raw_signed({"alg": "PS256"}, {"device_id": "dev-hand"},
                   lambda m: RSA_1.sign(m, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                       salt_length=32), hashes.SHA256())),
        "ok:dev-hand", pem(RSA_1.public_key()))
raw_row("es256_der_signature",
        raw_signed({"alg": "ES256"}, {"device_id": "dev-42"},
                   lambda m: P256.sign(m, ec.ECDSA(hashes.SHA256()))),
        "bad_jwt", pem(P256.public_key()))

out = sys.stdout
out.write("# PyJWT %s; fields: name keys algorithms device_claim leeway now expect token\n"
          % jwt.__version__)
for fields in ROWS:
    out.write("\t".join(fields) + "\n")
