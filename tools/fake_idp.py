#!/usr/bin/python3
"""An identity provider's key endpoints for the tests of wa_pair_jwt_jwks_url and wa_pair_jwt_issuer.

It serves, over HTTPS (or plain HTTP without --tls-cert), whatever the test has put at a path
(a JWK Set, an OpenID configuration, a redirect, a 500, a slow answer), and counts the GETs of
each path. A second, plain-HTTP port takes the test's orders:

  PUT  /route?path=/jwks.json[&status=200][&delay=0.5][&cache_control=max-age=60]
              [&location=https://...][&pad=2097152]      body: what the path answers
  GET  /hits?path=/jwks.json      the GETs of the path so far, as a number
  GET  /hits                      every path's, as JSON
  POST /reset                     forgets the hits

  fake_idp.py --listen 127.0.0.1:9443 --control 127.0.0.1:9444 --tls-cert c.pem --tls-key k.pem
"""
import argparse
import json
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
routes = {}  # path -> dict(status, body, cache_control, location, delay)
hits = {}    # path -> count


class Serve(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("idp: %s\n" % (fmt % args))

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        with lock:
            hits[path] = hits.get(path, 0) + 1
            route = routes.get(path)
        if route is None:
            body = b'{"error":"not found"}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if route["delay"] > 0:
            time.sleep(route["delay"])
        body = route["body"]
        self.send_response(route["status"])
        self.send_header("Content-Type", "application/json")
        if route["cache_control"]:
            self.send_header("Cache-Control", route["cache_control"])
        if route["location"]:
            self.send_header("Location", route["location"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Control(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path != "/route" or "path" not in q:
            return self.answer(400, "PUT /route?path=...")
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        pad = int(q.get("pad", "0"))
        if pad:
            # a JWK Set grown to `pad` bytes with a member nobody reads
            doc = json.loads(body or b'{"keys":[]}')
            doc["padding"] = ""
            room = pad - len(json.dumps(doc).encode())
            doc["padding"] = "x" * max(room, 0)
            body = json.dumps(doc).encode()
        with lock:
            routes[q["path"]] = {
                "status": int(q.get("status", "200")),
                "body": body,
                "cache_control": q.get("cache_control", ""),
                "location": q.get("location", ""),
                "delay": float(q.get("delay", "0")),
            }
        self.answer(200, "ok")

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path != "/hits":
            return self.answer(404, "no")
        with lock:
            if "path" in q:
                return self.answer(200, str(hits.get(q["path"], 0)))
            return self.answer(200, json.dumps(hits))

    def do_POST(self):
        if self.path != "/reset":
            return self.answer(404, "no")
        with lock:
            hits.clear()
        self.answer(200, "ok")


def listen(spec, handler):
    host, port = spec.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), handler)
    server.daemon_threads = True
    return server


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", required=True, metavar="HOST:PORT")
    ap.add_argument("--control", required=True, metavar="HOST:PORT")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    serve = listen(args.listen, Serve)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        serve.socket = ctx.wrap_socket(serve.socket, server_side=True)
    control = listen(args.control, Control)
    threading.Thread(target=control.serve_forever, daemon=True).start()
    sys.stderr.write("idp: serving %s, control %s\n" % (args.listen, args.control))
    serve.serve_forever()


if __name__ == "__main__":
    main()
