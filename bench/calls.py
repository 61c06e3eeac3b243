"""make bench: N calls of one path over one keep-alive connection, sequentially (for callgrind).

Usage: calls.py PORT PATH TOKEN BODY STATUS N (TOKEN may be empty). Exits non-zero on any
answer other than STATUS.
"""
import http.client
import sys

port, path, token, body = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
status, n = int(sys.argv[5]), int(sys.argv[6])
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
headers = {"Content-Type": "application/json"}
if token:
    headers["Authorization"] = "Bearer " + token
for i in range(n):
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()
    resp.read()
    if resp.status != status:
        sys.exit("call %d to %s answered %d, expected %d" % (i, path, resp.status, status))
print("%d calls to %s answered %d" % (n, path, status))
