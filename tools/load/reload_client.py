#!/usr/bin/python3
"""Load with calls in flight for the reload/quit check of make faults (tools/faults.sh).

CONCURRENCY clients, each in a loop for SECONDS: connect, POST the login body (Connection:
close, so every request has its own connection and its fate is unambiguous), read the whole
answer. Half the clients call /slow (the backend answers after 1 s: calls are in flight at
every signal), half the fast location. Every answer must be a well-formed 200 envelope.

A request whose connection was made but that got no answer is "failed" if it connected
before the quit signal (QUIT_FILE holds its time), and "unaccepted" if after: nginx's master
keeps the listening socket open until its workers are done, so the kernel completes such
connections, which nobody will accept, and resets them when nginx exits (nginx's behaviour,
not a lost request: nginx never saw it). Prints a JSON summary.
"""
import asyncio
import json
import re
import sys
import time

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTVWXYZ"
OK = re.compile(r'^\{"status":true,"code":200,"message":"Pairing code generated successfully",'
                r'"data":\{"pair_code":"[%s]{4}-[%s]{4}","timeout":\d+\}\}$' % (ALPHABET, ALPHABET))


async def one(port, path, token, stats, failures):
    t0 = time.time()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        stats["refused"] += 1
        await asyncio.sleep(0.05)
        return
    body = b'{"phone":"6281234567890"}'
    writer.write(b"POST %s HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\n"
                 b"Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                 % (path.encode(), token.encode(), len(body), body))
    try:
        await writer.drain()
        data = await asyncio.wait_for(reader.read(), 15)
    except (OSError, asyncio.TimeoutError) as e:
        data = b""
        err = type(e).__name__
    else:
        err = "eof"
    finally:
        writer.close()
    if not data:
        failures.append((t0, path, err))
        return
    head, _, payload = data.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1].decode() if head.startswith(b"HTTP/1.1 ") else "?"
    stats["status"][status] = stats["status"].get(status, 0) + 1
    if status == "200" and OK.match(payload.decode("utf-8", "replace")) and b"application/json" in head:
        stats["ok"] += 1
    else:
        stats["bad"] += 1
        stats.setdefault("bad_samples", []).append(data[:300].decode("utf-8", "replace"))


async def client(port, path, token, end, stats, failures):
    while time.time() < end:
        await one(port, path, token, stats, failures)


async def main():
    port, token, seconds, concurrency, quit_file = sys.argv[1:6]
    end = time.time() + float(seconds)
    stats = {"ok": 0, "bad": 0, "refused": 0, "status": {}}
    failures = []
    paths = ["/slow", "/devices/me/login-code"]
    await asyncio.gather(*(client(int(port), paths[i % 2], token, end, stats, failures)
                           for i in range(int(concurrency))))
    try:
        quit_at = float(open(quit_file).read())
    except (OSError, ValueError):
        quit_at = float("inf")
    stats["failed"] = sum(1 for t, _, _ in failures if t < quit_at)
    stats["unaccepted"] = sum(1 for t, _, _ in failures if t >= quit_at)
    stats["failed_samples"] = [f"{p} {e} at quit{t - quit_at:+.3f}s" for t, p, e in failures if t < quit_at][:5]
    stats["answered"] = stats["ok"] + stats["bad"]
    if "bad_samples" in stats:
        stats["bad_samples"] = stats["bad_samples"][:3]
    print(json.dumps(stats))


asyncio.run(main())
