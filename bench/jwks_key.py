#!/usr/bin/python3
"""make bench: writes an RSA public key as a JWK Set (kid "bench-1") to the path given, and
prints an RS256 token of that kid for the bench's device, minted by PyJWT. With a second path,
also writes there the same set with a second key (kid "bench-2"): a rotated set."""
import json
import sys
import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
jwk.update({"kid": "bench-1", "use": "sig", "alg": "RS256"})
with open(sys.argv[1], "w") as f:
    json.dump({"keys": [jwk]}, f)
if len(sys.argv) > 2:
    other = json.loads(RSAAlgorithm.to_jwk(rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()))
    other.update({"kid": "bench-2", "use": "sig", "alg": "RS256"})
    with open(sys.argv[2], "w") as f:
        json.dump({"keys": [jwk, other]}, f)
claims = {"device_id": "bench-device", "exp": int(time.time()) + 86400}
print(jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench-1"}))
