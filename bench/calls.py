"""make bench: N full-path calls over one keep-alive connection, sequentially (for callgrind).

Usage: calls.py PORT TOKEN N. Exits non-zero on any answer other than 200.
"""
import http.client
import sys

port, token, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
for i in range(n):
    conn.request("POST", "/devices/me/login-code", body='{"phone":"6281234567890"}', headers=headers)
    resp = conn.getresponse()
    resp.read()
    if resp.status != 200:
        sys.exit("call %d answered %d" % (i, resp.status))
print("%d calls answered 200" % n)
