#!/usr/bin/python3
"""Development pairing backend for ngx_wa_pair: used by `make run` and the tests.

This is a development tool, not the product. It makes pairing codes the way whatsmeow does
(5 random bytes in WhatsApp's base32 alphabet, shown XXXX-XXXX), but no WhatsApp session
exists behind them: typing one into a phone does nothing. In production point
`wa_pair_backend` at a real WhatsApp engine that speaks the native protocol (docs/protocol.md), or at a small adapter in front of your engine (GoWA, WAHA, wuzapi, Evolution API,
a whatsmeow or Baileys service) that translates it.

Protocol: POST .../pair-code, JSON {"device_id":"...","phone":"digits"}, headers X-Request-ID
and X-Device-Id; answer 200 {"pair_code":"ABCD-1234","timeout":120} or 4xx/5xx {"error":"..."}.
GET /_stats -> {"requests":N,"by_path":{target:N}} (pair-code requests, keyed by the request
target as sent, query included; over TLS also "sni":{name:N}, the same requests keyed by the
server name their connection's handshake sent, "-" for none); GET /_connections ->
{"connections":N}, the connections accepted since the last reset that carried a pair-code
request (so that a client's keep-alive reuse shows); POST /_stats/reset zeroes them all.

TLS: with --tls-cert FILE --tls-key FILE the listener (--listen or --socket) speaks HTTPS only,
TLS 1.2 and 1.3 (--tls-max-version 1.2 caps it, to show a protocol mismatch); with
--tls-client-ca FILE a client must present a certificate signed by that CA (mTLS). Everything
above works the same over TLS. A failed handshake is one line on stderr, never a traceback.

Behaviour switches, as process flags (--delay 2) or per request in the query string
(/v1/pair-code?delay=2&status=429&retry_after=7); the query wins:
  delay=SECONDS        wait before answering (float)
  status=N             answer status N (200..599) with {"error":...}; 409 -> "device is already
                       logged in"; 429 also sends Retry-After
  error=TEXT           the error text of a status answer
  retry_after=V        Retry-After of a 429 (default 5; "none" omits the header)
  timeout=N            the timeout field ("none" omits it, "null" sends null, text is sent as is)
  pair_code=TEXT       send this pair_code instead of a fresh one
  garbage=MODE         notjson | badcode | nocode | huge (10 MB) | http (not HTTP, then close) |
                       close (close without answering) | trickle (one byte per 0.5 s) |
                       chunked-bad (invalid chunked encoding) | partial (the head and half the
                       body, then close) | reset (the head and half the body, then a TCP RST) |
                       bighead (a 200 whose head is 256 KB of headers) | close-kept (answers
                       the first request of a connection; closes on a later one without
                       answering, as a backend that dropped a kept-alive connection) |
                       stray (answers, then 50 ms later writes a second answer nobody asked
                       for, code STRA-Y222, on the same connection)

Run: /usr/bin/python3 tools/dev_backend.py --socket run/backend.sock [--verbose]
     /usr/bin/python3 tools/dev_backend.py --listen 127.0.0.1:8081
     /usr/bin/python3 tools/dev_backend.py --listen 127.0.0.1:8443 --tls-cert server.pem \
         --tls-key server.key [--tls-client-ca ca.pem] [--tls-max-version 1.2]
"""
import argparse
import base64
import json
import os
import secrets
import signal
import socket
import socketserver
import ssl
import stat
import struct
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

WA_ALPHABET = b"123456789ABCDEFGHJKLMNPQRSTVWXYZ"
TO_WA_ALPHABET = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", WA_ALPHABET)
GARBAGE = ("notjson", "badcode", "nocode", "huge", "http", "close", "trickle", "chunked-bad",
           "partial", "reset", "bighead", "close-kept", "stray")
STRAY_CODE = "STRA-Y222"  # the code of an answer nobody asked for (garbage=stray, --early-answer)
SWITCHES = ("delay", "status", "error", "retry_after", "timeout", "pair_code", "garbage")
DEFAULT_ERRORS = {409: "device is already logged in", 429: "too many pairing requests"}
MAX_BODY = 64 * 1024
HANDSHAKE_TIMEOUT = 10  # seconds a connection may take to finish its TLS handshake
TLS_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


def pair_code():
    """whatsmeow's linking code: base32 of 5 random bytes in WhatsApp's alphabet."""
    code = base64.b32encode(secrets.token_bytes(5)).translate(TO_WA_ALPHABET).decode()
    return code[:4] + "-" + code[4:]


def mask_phone(phone):
    return phone[:5] + "****" + phone[-3:] if len(phone) >= 9 else "****"


def read_switches(defaults, query):
    """Flags overlaid with the query string, checked; raises ValueError on a bad value."""
    raw = dict(defaults)
    for key, values in parse_qs(query, keep_blank_values=True).items():
        if key not in SWITCHES:
            raise ValueError(f"unknown switch {key!r}")
        raw[key] = values[-1]
    sw = dict(raw)
    sw["delay"] = float(raw["delay"] or 0)
    if not 0 <= sw["delay"] <= 3600:
        raise ValueError("delay must be 0..3600 seconds")
    sw["status"] = int(raw["status"] or 200)
    if not 200 <= sw["status"] <= 599:
        raise ValueError("status must be 200..599")
    if raw["garbage"] and raw["garbage"] not in GARBAGE:
        raise ValueError(f"garbage must be one of {', '.join(GARBAGE)}")
    if any(c in str(raw["retry_after"]) + str(raw["error"]) for c in "\r\n"):
        raise ValueError("retry_after and error must be one line")
    return sw


def reason(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def timeout_value(text):
    if text in ("none", "null"):
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def check_request(body, headers):
    """Returns (device_id, phone, error text or None)."""
    try:
        req = json.loads(body)
    except ValueError:
        return "", "", "body is not valid JSON"
    if not isinstance(req, dict):
        return "", "", "body must be a JSON object"
    device, phone = req.get("device_id"), req.get("phone")
    if not isinstance(device, str) or not device:
        return "", "", "device_id must be a non-empty string"
    if headers.get("X-Device-Id") != device:
        return device, "", "X-Device-Id header must be present and match device_id"
    if not isinstance(phone, str) or not phone:
        return device, "", "phone must be a non-empty string"
    if not (phone.isascii() and phone.isdigit()):
        return device, phone, "phone must contain digits only"
    return device, phone, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    server_version = "wa-pair-dev-backend"
    sys_version = ""

    def setup(self):
        super().setup()
        with self.server.lock:
            self.accepted_in = self.server.generation

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("dev_backend: " + (fmt % args) + "\n")

    def log_request(self, code="-", size="-"):
        pass  # one line of our own per request, with the phone masked

    def do_GET(self):
        self.route()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def route(self):
        path = urlsplit(self.path).path
        body = self.read_body()
        if body is None:
            return
        if path.endswith("/pair-code"):
            if self.command == "POST":
                self.pair(body)
            else:
                self.send(405, {"error": "use POST"}, {"Allow": "POST"})
        elif path == "/_stats" and self.command == "GET":
            with self.server.lock:
                by_path, sni = dict(self.server.stats), dict(self.server.sni)
            stats = {"requests": sum(by_path.values()), "by_path": by_path}
            if self.server.tls is not None:
                stats["sni"] = sni
            self.send(200, stats)
        elif path == "/_connections" and self.command == "GET":
            with self.server.lock:
                connections = self.server.connections
            self.send(200, {"connections": connections})
        elif path == "/_stats/reset" and self.command == "POST":
            with self.server.lock:
                self.server.stats, self.server.sni, self.server.connections = {}, {}, 0
                self.server.generation += 1
            self.send(200, {"requests": 0, "by_path": {}})
        else:
            self.send(404, {"error": "not found"})

    def read_body(self):
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            self.send(400, {"error": "send the body with Content-Length"})
            return None
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True
            self.send(400, {"error": "bad Content-Length"})
            return None
        return self.rfile.read(int(length))

    def pair(self, body):
        started = time.monotonic()
        with self.server.lock:
            self.server.stats[self.path] = self.server.stats.get(self.path, 0) + 1
            if self.server.tls is not None:
                sni = getattr(self.connection, "wa_sni", None) or "-"
                self.server.sni[sni] = self.server.sni.get(sni, 0) + 1
            # one handler per connection: count the connections accepted since the last reset,
            # at their first pairing request
            if not getattr(self, "counted", False) and self.accepted_in == self.server.generation:
                self.counted = True
                self.server.connections += 1
        try:
            sw = read_switches(self.server.defaults, urlsplit(self.path).query)
        except ValueError as e:
            sys.stderr.write(f"dev_backend: bad switch in {self.path}: {e}\n")
            return self.send(400, {"error": f"dev_backend switch: {e}"})
        time.sleep(sw["delay"])
        device, phone, error = check_request(body, self.headers)
        status, garbage = sw["status"], sw["garbage"]
        kept = getattr(self, "answered_one", False)  # this connection carried a request before
        self.answered_one = True
        if error:
            status, garbage, payload = 400, None, {"error": error}
        elif status == 200:
            payload = {"pair_code": sw["pair_code"] or pair_code()}
            if sw["timeout"] != "none":
                payload["timeout"] = timeout_value(sw["timeout"])
        else:
            payload = {"error": sw["error"] or DEFAULT_ERRORS.get(status, reason(status).lower())}
        payload = {"badcode": {"pair_code": "abc"}, "nocode": {}}.get(garbage, payload)
        extra = {"Retry-After": sw["retry_after"]} if status == 429 and sw["retry_after"] != "none" else {}
        if garbage == "notjson":
            self.send(status, b"<html>oops", extra, "text/html")
        elif garbage == "huge":
            pad = b" " * (10 * 1024 * 1024)
            self.send(status, json.dumps(payload).encode()[:-1] + b',"pad":"' + pad + b'"}', extra)
        elif garbage in ("http", "close") or (garbage == "close-kept" and kept):
            self.close_connection = True
            if garbage == "http":
                self.wfile.write(b"SSH-2.0-this-is-not-http\r\n\x00\x01\x02\xff\r\n\r\n")
        elif garbage in ("partial", "reset"):
            self.close_connection = True
            data = json.dumps(payload).encode()
            head = self.head(status, dict(extra, **{"Content-Length": str(len(data))}), "application/json")
            self.wfile.write(head + data[:len(data) // 2])
            if garbage == "reset":  # SO_LINGER 0: close() sends a RST instead of a FIN
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
        elif garbage == "bighead":
            pad = {f"X-Pad-{i}": "p" * 100 for i in range(2500)}
            self.send(status, payload, dict(extra, **pad))
        elif garbage == "stray":
            self.send(status, payload, extra)
            self.wfile.flush()
            time.sleep(0.05)
            self.send(200, {"pair_code": STRAY_CODE, "timeout": 120})
        elif garbage == "chunked-bad":
            self.close_connection = True
            head = self.head(status, dict(extra, **{"Transfer-Encoding": "chunked"}), "application/json")
            self.wfile.write(head + b"zz-not-hex\r\n{}\r\n0\r\n\r\n")
        else:
            self.send(status, payload, extra, trickle=(garbage == "trickle"))
        if self.server.verbose:
            sys.stderr.write(f"dev_backend: {self.command} {self.path} -> {status}{' ' + garbage if garbage else ''} "
                             f"device={device!r} phone={mask_phone(phone)} "
                             f"request={self.headers.get('X-Request-ID', '-')} "
                             f"{time.monotonic() - started:.3f}s\n")

    def head(self, status, headers, content_type):
        lines = [f"HTTP/1.1 {status} {reason(status)}", f"Content-Type: {content_type}"]
        if self.headers.get("X-Request-ID"):
            lines.append("X-Request-ID: " + self.headers["X-Request-ID"])
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if self.close_connection:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def send(self, status, body, headers=None, content_type="application/json", trickle=False):
        if not isinstance(body, bytes):
            body = json.dumps(body, separators=(",", ":")).encode()
        if status in (204, 304):
            body = b""
        headers = dict(headers or {}, **{"Content-Length": str(len(body))})
        data = self.head(status, headers, content_type) + body
        if not trickle:
            self.wfile.write(data)
            return
        for i in range(len(data)):
            self.wfile.write(data[i:i + 1])
            time.sleep(0.5)


class Backend(socketserver.ThreadingMixIn):
    daemon_threads = True  # a slow or trickling answer never delays another, nor the exit
    request_queue_size = 1024  # make faults/soak: 256 clients; a full queue refuses (503)
    allow_reuse_address = True

    tls = None  # the ssl.SSLContext of an HTTPS backend

    def setup_state(self, defaults, verbose, tls=None):
        self.defaults, self.verbose, self.tls = defaults, verbose, tls
        self.stats, self.sni, self.lock = {}, {}, threading.Lock()
        self.connections, self.generation = 0, 0

    early_answer = False  # --early-answer

    def finish_request(self, request, client_address):
        """Over TLS: the handshake first, in the connection's own thread (a slow or failing
        client never holds up the accepting one); a failure is one line, not a traceback.
        --early-answer: an answer nobody asked for, before reading anything; then a close."""
        if self.early_answer:
            body = json.dumps({"pair_code": STRAY_CODE, "timeout": 120}).encode()
            request.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                            + str(len(body)).encode() + b"\r\n\r\n" + body)
            time.sleep(1)
            lingering_close(request)
            return
        if self.tls is None:
            return super().finish_request(request, client_address)
        request.settimeout(HANDSHAKE_TIMEOUT)
        conn = self.tls.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
        try:
            conn.do_handshake()
        except (ssl.SSLError, OSError) as e:
            sys.stderr.write(f"dev_backend: TLS handshake{peer(client_address)} failed: {tls_error(e)}\n")
            lingering_close(conn)
            return
        conn.settimeout(None)
        try:
            super().finish_request(conn, client_address)
        finally:
            conn.close()

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if isinstance(e, ssl.SSLError):  # e.g. an alert from the client after the handshake
            sys.stderr.write(f"dev_backend: TLS error{peer(client_address)}: {tls_error(e)}\n")
        elif not isinstance(e, (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def lingering_close(conn):
    """Closes a connection whose handshake failed so that the client reads our alert: closed
    with its request unread, the socket would send a reset, which may overtake the alert."""
    try:
        conn.shutdown(socket.SHUT_WR)  # the alert, then a FIN; plain TCP from here on
        conn.settimeout(1)
        while conn.recv(65536):
            pass
    except OSError:
        pass
    finally:
        conn.close()


def peer(client_address):
    return f" with {client_address[0]}:{client_address[1]}" if isinstance(client_address, tuple) else ""


def tls_error(e):
    if isinstance(e, ssl.SSLError) and e.reason:
        return e.reason + (f" ({e.verify_message})" if getattr(e, "verify_message", None) else "")
    return str(e).split(" (_ssl.c:")[0] or type(e).__name__


def record_sni(sock, server_name, context):
    """sni_callback: keep the name the client sent (None without SNI) for /_stats."""
    sock.wa_sni = server_name


def tls_context(cert, key, client_ca, max_version):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if max_version:
        ctx.maximum_version = TLS_VERSIONS[max_version]
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=client_ca)
    ctx.sni_callback = record_sni
    return ctx


class UnixBackend(Backend, socketserver.UnixStreamServer):
    pass


class TCPBackend(Backend, socketserver.TCPServer):
    pass


def unix_backend(path):
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        sys.exit(f"dev_backend: directory {parent} does not exist")
    if os.path.lexists(path):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            sys.exit(f"dev_backend: {path} exists and is not a socket")
        with socket.socket(socket.AF_UNIX) as probe:
            if probe.connect_ex(path) == 0:
                sys.exit(f"dev_backend: another process is listening on {path}")
        os.unlink(path)  # stale socket of a backend that did not exit cleanly
    server = UnixBackend(path, Handler)
    os.chmod(path, 0o666)  # nginx workers run as another user (docs/testing.md)
    return server


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket", metavar="PATH", help="listen on this Unix socket (mode 0666)")
    where.add_argument("--listen", metavar="HOST:PORT", help="listen on TCP, e.g. 127.0.0.1:8081")
    ap.add_argument("--verbose", action="store_true", help="log one line per request to stderr")
    ap.add_argument("--delay", default="0")
    ap.add_argument("--status", default="200")
    ap.add_argument("--error", default="")
    ap.add_argument("--retry-after", dest="retry_after", default="5")
    ap.add_argument("--timeout", default="120")
    ap.add_argument("--pair-code", dest="pair_code", default="")
    ap.add_argument("--garbage", default="", help=" | ".join(GARBAGE))
    ap.add_argument("--early-answer", dest="early_answer", action="store_true",
                    help="on every connection, write an answer before reading anything, then close")
    ap.add_argument("--tls-cert", metavar="FILE", help="serve HTTPS with this certificate (PEM)")
    ap.add_argument("--tls-key", metavar="FILE", help="the private key of --tls-cert (PEM)")
    ap.add_argument("--tls-client-ca", metavar="FILE",
                    help="require a client certificate signed by this CA (mTLS)")
    ap.add_argument("--tls-max-version", choices=sorted(TLS_VERSIONS),
                    help="the highest TLS version offered (default 1.3)")
    args = ap.parse_args()
    defaults = {name: getattr(args, name) for name in SWITCHES}
    try:
        read_switches(defaults, "")
    except ValueError as e:
        ap.error(str(e))
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if (args.tls_client_ca or args.tls_max_version) and not args.tls_cert:
        ap.error("--tls-client-ca and --tls-max-version need --tls-cert")
    tls = None
    if args.tls_cert:
        try:
            tls = tls_context(args.tls_cert, args.tls_key, args.tls_client_ca, args.tls_max_version)
        except (ssl.SSLError, OSError) as e:
            sys.exit(f"dev_backend: TLS: {e}")

    if args.socket:
        server, where = unix_backend(args.socket), "unix:" + args.socket
        inode = os.stat(args.socket).st_ino
    else:
        host, _, port = args.listen.rpartition(":")
        server = TCPBackend((host, int(port)), Handler)
        where = "%s:%d" % server.server_address[:2]
    server.setup_state(defaults, args.verbose, tls)
    server.early_answer = args.early_answer
    if tls is not None:
        where = "https://" + where
    # One thread per connection share one interpreter lock: with hundreds of busy connections
    # the accepting thread waits its turn behind every one of them (5 ms each by default), and
    # a burst of new connections sits in the listen queue for seconds. Hand the lock on sooner.
    sys.setswitchinterval(0.0002)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.verbose:
        sys.stderr.write(f"dev_backend: listening on {where}\n")
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if args.socket and os.path.exists(args.socket) and os.stat(args.socket).st_ino == inode:
            os.unlink(args.socket)


if __name__ == "__main__":
    main()
