#!/usr/bin/python3
"""Fake WhatsApp engines for ngx_wa_pair's tests: GoWA, WAHA, wuzapi, Evolution API and
go-whatsapp-multi-session-rest-api ("origin"), each answering its pairing endpoint exactly as
the engine's code does, error shapes included (docs/engines.md lists the sources).

A test tool, not a product: no WhatsApp session exists behind these codes.

Each process fakes one engine (--engine) on a Unix socket (--socket) or TCP (--listen). It
checks a request the way the engine does (method, path, credentials, body) and answers the
engine's own error when it is wrong; otherwise it answers the shape the test asks for in the
X-Fake-Answer header (set with wa_pair_backend_header), "success" by default:

  origin     success reconnected phone_required too_many raw_500 panic rate_overlimit
             iq_timeout slow (success after 11 s: its connection and PairPhone take time)
             (and, from its DeviceAuth: no or malformed Authorization -> 401)
  gowa       success already_logged_in validation_error gateway_timeout connect_failed
             internal_error rate_overlimit manager_unavailable   (and: unknown X-Device-Id,
             as GoWA decodes it -> 404, wrong Basic auth -> 401)
  waha       success success_200 starting stopped failed working not_implemented exception
             (and: unknown session -> 404, wrong X-Api-Key -> 401)
  wuzapi     success already_paired no_session pair_error rate_overlimit not_connected
             iq_timeout   (and: unknown token -> 401)
  evolution  success null_code waiting close_stale open error   (and: unknown instance ->
             404, wrong apikey -> 401)

Sessions that must be started first (wa_pair_session_start), per name, kept until /_reset:
  not_started  GoWA: the device does not exist until POST /devices creates it; WAHA: the
               session is STOPPED until POST /api/sessions/{name}/start, then STARTING for
               READY_AFTER s, then SCAN_QR_CODE; wuzapi: no client until POST /session/connect,
               then not connected, then connected with no QR, then its first QR (READY_AFTER s)
  never_ready  the same, but the session never gets ready (WAHA stays STARTING, wuzapi's QR
               stays empty, Evolution's QR state never changes)
  closed       Evolution: the instance is closed; its pairing call connects it, waits 2 s and
               answers the previous attempt's QR state; the new connection's first QR (and
               its pairing code) comes just after
A start call takes START_TAKES s, as a real one takes a moment; the session counts as started
at its end.

X-Fake-Base-Path: /prefix serves the engine's routes under that prefix only, as origin's
HTTP_BASE_URL and GoWA's APP_BASE_PATH do (anything else is the engine's 404).

GET /_last answers the last request as received: {"body":..,"headers":{lower-case
name: value},"method":..,"target":..} (canonical JSON). GET /_stats: {"requests":N}.
GET /_session: {"calls":["METHOD target",..],"starts":N}: every request received, in order, a
run of the same one (readiness polls) listed once; the session starts made.
POST /_reset zeroes them all and forgets started sessions.

Run: /usr/bin/python3 tools/fake_engines.py --engine waha --socket run/waha.sock --key k1
"""
import argparse
import base64
import json
import os
import re
import signal
import socket
import socketserver
import stat
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

ENGINES = ("origin", "gowa", "waha", "wuzapi", "evolution")
MAX_BODY = 64 * 1024

# One code per engine, in WhatsApp's alphabet, so a test sees which adapter mapped it.
CODES = {"origin": "RGN1-2345", "gowa": "GWA2-CDE3", "waha": "WAHA-2345",
         "wuzapi": "WZP1-2345", "evolution": "EV1234XY"}

# whatsmeow's error texts (errors.go), as the engines built on it pass them on.
RATE_OVERLIMIT = "info query returned status 429: rate-overlimit"
IQ_TIMED_OUT = "info query timed out"
NOT_CONNECTED = "websocket not connected"

SESSION_MODES = ("not_started", "never_ready", "closed")
READY_AFTER = 0.6   # from a start to the session's readiness (its first QR)
EVOLUTION_FIRST_QR = 0.05  # Evolution: its new connection's first QR, after the close answer
START_TAKES = 0.5   # a start call's own duration (a concurrent request still finds it not started)


def go_query_unescape(value):
    """Go's url.QueryUnescape: "%XX" is a byte, "+" a space; None when an escape is invalid."""
    raw, out, i = value.encode("latin-1", "replace"), bytearray(), 0
    while i < len(raw):
        c = raw[i]
        if c == 0x25:
            pair = raw[i + 1:i + 3]
            if len(pair) != 2 or not all(chr(h) in "0123456789abcdefABCDEF" for h in pair):
                return None
            out.append(int(pair, 16))
            i += 3
            continue
        out.append(0x20 if c == 0x2B else c)
        i += 1
    return out.decode("utf-8", "replace")


def go_json(value):
    """Go's encoding/json: compact, struct fields in declaration order, map keys sorted."""
    return json.dumps(value, separators=(",", ":"))


class Answer:
    def __init__(self, status, body, content_type="application/json", headers=None):
        self.status, self.content_type, self.headers = status, content_type, headers or {}
        self.body = body if isinstance(body, bytes) else body.encode()


# --------------------------------------------------------------- go-whatsapp-multi-session-rest-api
# internal/device/device.go LoginWithCode, pkg/router/response.go Response{status, code,
# message, data|error}, pkg/auth/basic.go DeviceAuth, pkg/whatsapp/whatsapp.go WhatsAppLoginPair.

def origin_response(code, message, data=None, error=None):
    body = {"status": 200 <= code < 300, "code": code, "message": message}
    if data is not None:
        body["data"] = data
    if error is not None:
        body["error"] = error
    return Answer(code, go_json(body))


def origin(req, want, server):
    if req.method != "POST" or req.path != req.base + "/devices/me/login-code":
        return origin_response(404, f"Cannot {req.method} {req.path}", error=f"Cannot {req.method} {req.path}")
    auth = req.headers.get("Authorization", "")
    if not auth:
        return origin_response(401, "Missing Authorization header", error="Missing Authorization header")
    parts = auth.split(" ", 1)
    if len(parts) != 2 or parts[0].lower() != "bearer":
        text = "Invalid Authorization header format. Use: Bearer <token>"
        return origin_response(401, text, error=text)
    if parts[1].count(".") != 2 or want == "revoked":
        text = "Token has been revoked. Please regenerate a new token." if want == "revoked" \
            else "Invalid or expired token"
        return origin_response(401, text, error=text)
    try:
        phone = json.loads(req.body)["phone"].strip()
    except (ValueError, KeyError, TypeError, AttributeError):
        return origin_response(400, "Failed parse body request", error="Failed parse body request")
    if want == "phone_required" or not phone:
        return origin_response(400, "Phone is required", error="Phone is required")
    if want == "too_many":
        return origin_response(429, "Too many requests", error="Too many requests")
    if want == "raw_500":
        return origin_response(500, "WhatsApp Client is not Valid", error="WhatsApp Client is not Valid")
    if want == "panic":
        text = "runtime error: invalid memory address or nil pointer dereference"
        return origin_response(500, text, error=text)
    if want in ("rate_overlimit", "iq_timeout"):  # whatsmeow's PairPhone error, as it is
        text = RATE_OVERLIMIT if want == "rate_overlimit" else IQ_TIMED_OUT
        return origin_response(500, text, error=text)
    if want == "slow":
        time.sleep(11)
    if want == "reconnected":
        data = {"PairCode": "WhatsApp Client is Reconnected", "Timeout": 0}
    else:
        data = {"PairCode": CODES["origin"], "Timeout": 160}
    return origin_response(200, "Success Generate Pairing Code", data=data)


# --------------------------------------------------------------- GoWA
# src/ui/rest/app.go LoginWithCode, src/pkg/utils/response.go ResponseData{code, message,
# results}, src/pkg/error/*.go, src/ui/rest/middleware/{device,recovery}.go, fiber basicauth.

def gowa_response(status, code, message, results=None):
    body = {"code": code, "message": message}
    if results is not None:
        body["results"] = results
    return Answer(status, go_json(body))


def gowa(req, want, server):
    if server.key:
        expected = "Basic " + base64.b64encode(server.key.encode()).decode()
        if req.headers.get("Authorization") != expected:
            return Answer(401, "Unauthorized", "text/plain; charset=utf-8",
                          {"WWW-Authenticate": 'Basic realm="Restricted"'})
    if req.method == "POST" and req.path == req.base + "/devices":
        return gowa_add_device(req, want, server)
    if req.method != "GET" or req.path != req.base + "/app/login-with-code":
        return Answer(404, f"Cannot {req.method} {req.path}", "text/plain; charset=utf-8")
    if want == "manager_unavailable":
        return gowa_response(503, "DEVICE_MANAGER_UNAVAILABLE", "Device manager is not initialized")
    # middleware/device.go: trimmed, then URL-unescaped; the raw value when that fails
    device = req.headers.get("X-Device-Id", "").strip()
    decoded = go_query_unescape(device)
    device = decoded if decoded is not None else device
    if not device:
        return gowa_response(400, "DEVICE_ID_REQUIRED",
                             "device_id is required via X-Device-Id header or device_id query")
    if not gowa_device_exists(device, want, server):
        return gowa_response(404, "DEVICE_NOT_FOUND", "device not found; create a device first "
                             "from /api/devices or provide a valid X-Device-Id", {"device_id": device})
    phone = parse_qs(req.query).get("phone", [""])[-1]
    if want == "validation_error" or not re.fullmatch(r"\+?[0-9]{1,15}", phone):
        return gowa_response(400, "VALIDATION_ERROR",
                             f"phone_number({phone}): must be in a valid format.")
    if want == "already_logged_in":
        return gowa_response(400, "ALREADY_LOGGED_IN", "you are already logged in.")
    if want == "gateway_timeout":
        return gowa_response(504, "GATEWAY_TIMEOUT",
                             "Request timed out waiting for WhatsApp server response")
    if want == "connect_failed":  # client.Connect()'s error, through the recovery middleware
        return gowa_response(500, "INTERNAL_SERVER_ERROR",
                             "failed to dial whatsapp web websocket: dial tcp: i/o timeout")
    if want == "rate_overlimit":  # PairPhone's error, through the recovery middleware
        return gowa_response(500, "INTERNAL_SERVER_ERROR", RATE_OVERLIMIT)
    if want == "internal_error":
        return gowa_response(500, "INTERNAL_SERVER_ERROR", "websocket not connected")
    return gowa_response(200, "SUCCESS", "Login with code success",
                         {"device_id": device, "pair_code": CODES["gowa"]})


def gowa_device_exists(device, want, server):
    if want in SESSION_MODES:
        return server.age(device) is not None  # only the devices POST /devices created
    return device in server.names


def gowa_add_device(req, want, server):
    """src/ui/rest/device.go AddDevice; src/infrastructure/whatsapp/device_manager.go
    CreateDevice: "device <id> already exists" is an error, panicked by PanicIfNeeded and
    answered by the recovery middleware as a 500."""
    try:
        device = json.loads(req.body).get("device_id", "")
        if not isinstance(device, str):
            raise ValueError
    except (ValueError, AttributeError):
        return gowa_response(400, "BAD_REQUEST", "Invalid request body")
    existed = gowa_device_exists(device, want, server)
    if not device or not server.start(device, START_TAKES) or existed:
        return gowa_response(500, "INTERNAL_SERVER_ERROR", f"device {device} already exists")
    return gowa_response(200, "SUCCESS", "Device added", {
        "created_at": "2026-01-01T00:00:00Z", "display_name": "", "id": device, "jid": "",
        "state": "disconnected"})


# --------------------------------------------------------------- WAHA
# src/api/auth.controller.ts requestCode (a NestJS @Post: 201), src/structures/auth.dto.ts,
# src/core/engines/noweb/session.noweb.core.ts requestCode, src/core/manager.core.ts
# getSession, src/nestjs/AllExceptionsFilter.ts, NestJS HttpException bodies.

def nest_error(status, message):
    return Answer(status, json.dumps({"message": message, "error": HTTPStatus(status).phrase,
                                      "statusCode": status}, separators=(",", ":")))


def waha(req, want, server):
    if server.key and req.headers.get("X-Api-Key") != server.key:
        return Answer(401, json.dumps({"message": "Unauthorized", "statusCode": 401},
                                      separators=(",", ":")))
    m = re.fullmatch(r"/api/sessions/([^/]+)/start", req.path)
    if req.method == "POST" and m:
        return waha_start(unquote(m.group(1)), want, server)
    m = re.fullmatch(r"/api/sessions/([^/]+)", req.path)
    if req.method == "GET" and m:
        return waha_session(unquote(m.group(1)), want, server)
    m = re.fullmatch(r"/api/([^/]+)/auth/request-code", req.path)
    if req.method != "POST" or not m:
        return nest_error(404, f"Cannot {req.method} {req.path}")
    session = unquote(m.group(1))
    status = waha_status(session, want, server)
    if session not in server.names or status == "STOPPED":
        return nest_error(404, f"We didn't find a session with name '{session}'.\n"
                               f"Please start it first by using POST /api/sessions/{session}/start request")
    # NOWEB's requestCode waits for the first QR while the session is STARTING
    deadline = time.monotonic() + 30
    while status == "STARTING" and time.monotonic() < deadline:
        time.sleep(0.05)
        status = waha_status(session, want, server)
    if status == "STARTING":
        want = "starting"
    try:
        body = json.loads(req.body)
        phone = body["phoneNumber"]
    except (ValueError, KeyError, TypeError):
        body, phone = {}, None
    if want in ("starting", "stopped", "failed", "working"):
        status = want.upper()
        return nest_error(422, "Can request code only in SCAN_QR_CODE status. "
                               f"The current status is {status}")
    if want == "not_implemented":
        return nest_error(422, "The method is not implemented by the engine.")
    if want == "exception" or not isinstance(phone, str):
        return Answer(500, json.dumps({
            "statusCode": 500, "timestamp": "2025-01-01T00:00:00.000Z",
            "exception": {"message": "Evaluation failed: t: Invalid phone number", "name": "Error"},
            "request": {"path": req.target, "method": req.method, "body": body, "query": {}},
            "version": {"version": "2025.1.1", "engine": "NOWEB", "tier": "CORE"}},
            separators=(",", ":")))
    return Answer(200 if want == "success_200" else 201,
                  json.dumps({"code": CODES["waha"]}, separators=(",", ":")))


def waha_status(session, want, server):
    """The session's status (src/structures/enums.dto.ts WAHASessionStatus): STOPPED until a
    start in the session modes, then STARTING until its first QR, then SCAN_QR_CODE."""
    if want not in SESSION_MODES:
        return "SCAN_QR_CODE"
    age = server.age(session)
    if age is None:
        return "STOPPED"
    return "STARTING" if want == "never_ready" or age < READY_AFTER else "SCAN_QR_CODE"


def waha_info(session, status, code=200):
    return Answer(code, json.dumps({
        "name": session, "status": status, "config": {}, "me": None,
        "engine": {"engine": "NOWEB"}}, separators=(",", ":")))


def waha_start(session, want, server):
    """src/api/sessions.controller.ts start (a NestJS @Post: 201 with the session's info; 404
    "Session not found"), src/core/manager.core.ts start (422 "Session '<name>' is already
    started." when it runs)."""
    if session not in server.names:
        return nest_error(404, "Session not found")
    if not server.start(session, START_TAKES) or want not in SESSION_MODES:
        return nest_error(422, f"Session '{session}' is already started.")
    return waha_info(session, waha_status(session, want, server), 201)


def waha_session(session, want, server):
    """src/api/sessions.controller.ts get, src/core/manager.core.ts getSessions(true)."""
    if session not in server.names:
        return nest_error(404, "Session not found")
    return waha_info(session, waha_status(session, want, server))


# --------------------------------------------------------------- wuzapi
# handlers.go PairPhone, Respond (envelope {"code","data"|"error","success"}, a trailing
# newline from json.Encoder), authalice (the `token` header), routes.go.

def wuzapi_response(status, data=None, error=None):
    body = {"code": status}
    if error is not None:
        body.update(error=error, success=False)
    else:
        body.update(data=data, success=True)
    return Answer(status, json.dumps(body, separators=(",", ":"), sort_keys=True) + "\n")


def wuzapi(req, want, server):
    token = req.headers.get("token", "")
    if not token or (server.key and token != server.key):
        return wuzapi_response(401, error="Unauthorized")
    if req.method == "POST" and req.path == "/session/connect":
        return wuzapi_connect(req, want, server)
    if req.method == "GET" and req.path == "/session/qr":
        return wuzapi_qr(want, server)
    if req.method != "POST" or req.path != "/session/pairphone":
        return Answer(404, "404 page not found\n", "text/plain; charset=utf-8")
    client = wuzapi_client(want, server)
    if want == "no_session" or client is None:
        return wuzapi_response(500, error="No session")
    if client == "connecting":
        return wuzapi_response(400, error=NOT_CONNECTED)
    try:
        phone = json.loads(req.body).get("Phone", "")
    except (ValueError, AttributeError):
        return wuzapi_response(400, error="Could not decode Payload")
    if not phone:
        return wuzapi_response(400, error="Missing Phone in Payload")
    if want == "already_paired":
        return wuzapi_response(400, error="Already paired")
    if want == "pair_error":  # whatsmeow's PairPhone errors, as they are
        return wuzapi_response(400, error="international phone number required (must not start with 0)")
    if want == "rate_overlimit":
        return wuzapi_response(400, error=RATE_OVERLIMIT)
    if want == "iq_timeout":
        return wuzapi_response(400, error=IQ_TIMED_OUT)
    if want == "not_connected":
        return wuzapi_response(400, error=NOT_CONNECTED)
    return wuzapi_response(200, data={"LinkingCode": CODES["wuzapi"]})


def wuzapi_client(want, server):
    """The user's whatsmeow client: None until /session/connect in the session modes (its
    goroutine registers it, then connects: wmiau.go startClient), "connecting", "qr_pending"
    (connected, no QR stored yet), or "qr" (its first QR stored in users.qrcode)."""
    if want not in SESSION_MODES:
        return "qr"
    age = server.age("user")
    if age is None:
        return None
    if age < READY_AFTER / 2:
        return "connecting"
    return "qr_pending" if want == "never_ready" or age < READY_AFTER else "qr"


def wuzapi_connect(req, want, server):
    """handlers.go Connect: 500 "Already Connected" when the user has a client; else the
    client starts in a goroutine and, with "Immediate": true, the answer comes at once."""
    try:
        body = json.loads(req.body)
        if not isinstance(body, dict):
            raise ValueError
    except ValueError:
        return wuzapi_response(400, error="Could not decode Payload")
    existed = wuzapi_client(want, server) is not None
    if not server.start("user", START_TAKES if body.get("Immediate") else 10) or existed:
        return wuzapi_response(500, error="Already Connected")
    return wuzapi_response(200, data={"details": "Connected!", "events": "All", "jid": "",
                                      "webhook": ""})


def wuzapi_qr(want, server):
    """handlers.go GetQR: "No session" without a client, "Not connected" while it connects,
    then the QR stored at its first QR event ("" before it)."""
    client = wuzapi_client(want, server)
    if client is None:
        return wuzapi_response(500, error="No session")
    if client == "connecting":
        return wuzapi_response(500, error="Not connected")
    qr = "data:image/png;base64,iVBORw0KGgo=" if client == "qr" else ""
    return wuzapi_response(200, data={"QRCode": qr})


# --------------------------------------------------------------- Evolution API
# src/api/routes/instance.router.ts (GET /instance/connect/:instanceName), src/api/controllers/
# instance.controller.ts connectToWhatsapp, whatsapp.baileys.service.ts qrCode, src/api/guards/
# {auth,instance}.guard.ts, src/exceptions/*.ts, src/main.ts error middleware.

def evolution_error(status, message):
    return Answer(status, json.dumps({"status": status, "error": HTTPStatus(status).phrase,
                                      "response": {"message": message}}, separators=(",", ":")))


def evolution(req, want, server):
    m = re.fullmatch(r"/instance/connectionState/([^/]+)", req.path)
    if m and req.method == "GET":
        return evolution_state(req, unquote(m.group(1)), want, server)
    m = re.fullmatch(r"/instance/connect/([^/]+)", req.path)
    if not m:
        return evolution_error(404, [f"Cannot {req.method} {req.path}"])
    if not req.headers.get("apikey") or (server.key and req.headers.get("apikey") != server.key):
        return evolution_error(401, "Unauthorized")
    instance = unquote(m.group(1))
    if instance not in server.names:
        return evolution_error(404, [f'The "{instance}" instance does not exist'])
    if req.method != "GET":
        return evolution_error(404, [f"Cannot {req.method} {req.path}"])
    number = parse_qs(req.query).get("number", [None])[-1]
    qr = {"code": "2@y8eK+bjtEjUWy9/FOM", "base64": "data:image/png;base64,iVBORw0KGgo=", "count": 1}
    previous = {"pairingCode": "PREV2345", "code": "2@old+attempt", "base64":
                "data:image/png;base64,b2xk", "count": 7}
    if want in SESSION_MODES:
        # closed: the pairing call connects the instance, waits 2 s and answers its QR state,
        # still the previous attempt's; in state "connecting" it only reads the QR state,
        # which the new connection's first QR replaces (pairingCode first, then code)
        if server.age(instance) is None and server.start(instance):
            time.sleep(2)
            return Answer(200, json.dumps(previous, separators=(",", ":")))
        if want == "never_ready" or server.age(instance) < 2 + EVOLUTION_FIRST_QR:
            return Answer(200, json.dumps(previous, separators=(",", ":")))
        fresh = dict(qr, code="2@new+connection")
        return Answer(200, json.dumps(dict({"pairingCode": CODES["evolution"] if number else None},
                                           **fresh), separators=(",", ":")))
    if want == "open":
        return Answer(200, json.dumps({"instance": {"instanceName": instance, "state": "open"}},
                                      separators=(",", ":")))
    if want == "error":
        return Answer(200, json.dumps({"error": True, "message": "Error: Connection Closed"},
                                      separators=(",", ":")))
    if want in ("waiting", "close_stale"):
        # the close state: connect with the number, wait 2 s, answer the QR state, which is
        # still a fresh instance's {"count":0} or the previous attempt's (its code included)
        time.sleep(2)
        if want == "waiting":
            return Answer(200, json.dumps({"count": 0}, separators=(",", ":")))
        return Answer(200, json.dumps(previous, separators=(",", ":")))
    if want == "null_code" or not number:
        return Answer(200, json.dumps(dict({"pairingCode": None}, **qr), separators=(",", ":")))
    return Answer(200, json.dumps(dict({"pairingCode": CODES["evolution"]}, **qr), separators=(",", ":")))


def evolution_state(req, instance, want, server):
    """instance.controller.ts connectionState: {"instance":{"instanceName","state"}}, after the
    same guards as connect (apikey, the instance exists)."""
    if not req.headers.get("apikey") or (server.key and req.headers.get("apikey") != server.key):
        return evolution_error(401, "Unauthorized")
    if instance not in server.names:
        return evolution_error(404, [f'The "{instance}" instance does not exist'])
    if want in SESSION_MODES:
        state = "close" if server.age(instance) is None else "connecting"
    else:
        state = "open" if want == "open" else "connecting"
    return Answer(200, json.dumps({"instance": {"instanceName": instance, "state": state}},
                                  separators=(",", ":")))


ENGINE_FUNCTIONS = {"origin": origin, "gowa": gowa, "waha": waha, "wuzapi": wuzapi,
                    "evolution": evolution}


# --------------------------------------------------------------- server

class Request:
    def __init__(self, handler, body):
        self.method, self.target, self.body = handler.command, handler.path, body
        split = urlsplit(handler.path)
        self.path, self.query, self.headers = split.path, split.query, handler.headers
        self.base = handler.headers.get("X-Fake-Base-Path", "")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sys_version = ""

    @property
    def server_version(self):
        return "fake-" + self.server.engine

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write(f"fake_engines[{self.server.engine}]: " + (fmt % args) + "\n")

    def do_GET(self):
        self.route()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def route(self):
        length = self.headers.get("Content-Length", "0")
        if "Transfer-Encoding" in self.headers or not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True
            return self.reply(Answer(400, b"bad request framing", "text/plain"))
        body = self.rfile.read(int(length))
        path = urlsplit(self.path).path
        server = self.server
        if path == "/_last" and self.command == "GET":
            with server.lock:
                last = server.last
            return self.reply(Answer(200, json.dumps(last, sort_keys=True, separators=(",", ":"))))
        if path == "/_stats" and self.command == "GET":
            with server.lock:
                count = server.requests
            return self.reply(Answer(200, json.dumps({"requests": count})))
        if path == "/_session" and self.command == "GET":
            with server.lock:
                answer = {"calls": list(server.calls), "starts": server.starts}
            return self.reply(Answer(200, json.dumps(answer, separators=(",", ":"))))
        if path == "/_reset" and self.command == "POST":
            with server.lock:
                server.reset()
            return self.reply(Answer(200, b"{}"))
        req = Request(self, body)
        with server.lock:
            call = f"{self.command} {self.path}"
            if not server.calls or server.calls[-1] != call:
                server.calls.append(call)
            server.requests += 1
            server.last = {"method": self.command, "target": self.path,
                           "headers": {k.lower(): v for k, v in self.headers.items()},
                           "body": body.decode("utf-8", "replace")}
        want = self.headers.get("X-Fake-Answer", "success")
        self.reply(ENGINE_FUNCTIONS[server.engine](req, want, server))

    def reply(self, answer):
        lines = [f"HTTP/1.1 {answer.status} {HTTPStatus(answer.status).phrase}",
                 f"Content-Type: {answer.content_type}", f"Content-Length: {len(answer.body)}"]
        lines += [f"{k}: {v}" for k, v in answer.headers.items()]
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + answer.body)


class Fake(socketserver.ThreadingMixIn):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True

    def setup_state(self, engine, key, names, verbose):
        self.engine, self.key, self.names, self.verbose = engine, key, names, verbose
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.requests, self.last, self.calls, self.starts, self.started = 0, None, [], 0, {}
        self.starting = set()

    def start(self, name, takes=0.0):
        """A start call for `name`: counted; True when it started it (neither started nor
        being started before). The session counts as started once the call's `takes`
        seconds are over: until then the engine still says it is not."""
        with self.lock:
            self.starts += 1
            if name in self.started or name in self.starting:
                return False
            self.starting.add(name)
        time.sleep(takes)
        with self.lock:
            self.starting.discard(name)
            self.started[name] = time.monotonic()
        return True

    def age(self, name):
        """Seconds since `name` was started, None when it was not."""
        with self.lock:
            since = self.started.get(name)
        return None if since is None else time.monotonic() - since

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class UnixFake(Fake, socketserver.UnixStreamServer):
    pass


class TCPFake(Fake, socketserver.TCPServer):
    pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", required=True, choices=ENGINES)
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--socket", metavar="PATH")
    where.add_argument("--listen", metavar="HOST:PORT")
    ap.add_argument("--key", default="", help="the credential the engine requires: gowa user:pass "
                    "(Basic auth), waha X-Api-Key, wuzapi token, evolution apikey")
    ap.add_argument("--names", default="default,dev-42,ops+1,x%41", help="gowa devices, waha sessions, "
                    "evolution instances that exist (comma-separated)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    if args.socket:
        if os.path.lexists(args.socket) and stat.S_ISSOCK(os.lstat(args.socket).st_mode):
            os.unlink(args.socket)
        server = UnixFake(args.socket, Handler)
        os.chmod(args.socket, 0o666)  # nginx workers run as another user
    else:
        host, _, port = args.listen.rpartition(":")
        server = TCPFake((host, int(port)), Handler)
    server.setup_state(args.engine, args.key, set(args.names.split(",")), args.verbose)

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if args.socket and os.path.exists(args.socket):
            os.unlink(args.socket)


if __name__ == "__main__":
    main()
