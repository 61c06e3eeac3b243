#!/usr/bin/python3
"""Fills an owner host's wa_pair_zone with devices until it refuses one (bench/capacity.sh).

Each request is a new device (a JWT for fill-<n>) pairing a new number, over one kept TLS
connection; every device then holds a live code and both the device and the number hold
their per-hour limits: entries the edge policy must keep, the zone's worst case. Stops at
the first answer that is not 200 and prints "<devices stored> <status of the refusal>".

  zone_fill.py --url https://owner-1:7711/devices/me/login-code --connect 127.0.0.2:7711 \
      --ca pki/ca.pem --secret-file jwt.secret [--max 100000]
"""
import argparse
import http.client
import socket
import ssl
import sys
import time
from urllib.parse import urlsplit

import jwt  # PyJWT, Debian package python3-jwt


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--connect", required=True, metavar="ADDR:PORT")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--secret-file", required=True)
    ap.add_argument("--max", type=int, default=100000)
    args = ap.parse_args()
    with open(args.secret_file, "rb") as f:
        secret = f.read().rstrip(b"\r\n")
    url = urlsplit(args.url)
    addr, port = args.connect.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=args.ca)

    class Owner(http.client.HTTPSConnection):
        """The owner's name for TLS (SNI, the certificate), its address for the socket."""
        def connect(self):
            sock = socket.create_connection((addr, int(port)), self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock = ctx.wrap_socket(sock, server_hostname=url.hostname)

    conn = Owner(url.hostname, int(port), context=ctx, timeout=30)
    now = int(time.time())
    for n in range(args.max):
        token = jwt.encode({"device_id": f"fill-{n}", "iat": now, "exp": now + 3600}, secret, algorithm="HS256")
        body = '{"phone":"%d"}' % (628120000000 + n)
        conn.request("POST", url.path, body, {"Authorization": "Bearer " + token,
                                              "Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            print(n, resp.status)
            return
    print(args.max, "none")


if __name__ == "__main__":
    sys.exit(main())
