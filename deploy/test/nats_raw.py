#!/usr/bin/env python3
"""The NATS text protocol by hand, for deploy/test/compose-test.sh (no NATS
client library needed: the standard library only).

  nats_raw.py query HOST:PORT USER PASSWORD_FILE SUBJECT JSON [SUBJECT JSON ...]
      One connection, the requests sent back to back (taonet's queries:
      `taonet.qry.<service>.<name>`), each answer printed as one JSON line
      in the order asked (the services answer {"ok": ...} or {"error": ...}).
      Exits 1 on a timeout or an -ERR from the server.

  nats_raw.py route HOST:PORT CA_FILE [CERT_FILE KEY_FILE [USER PASSWORD]]
      Connects to a node's cluster (route) port as a rogue route: reads the
      plaintext INFO if any, starts TLS (with a client certificate when
      given), sends a route CONNECT (with credentials when given) and a PING.
      Prints one JSON line: {"plaintext_info": bool, "tls": "ok"|<error>,
      "answer": <the server's first reply other than INFO, or the error>}.
"""
import json
import socket
import ssl
import sys
import uuid


def read_line(f):
    line = f.readline()
    if not line:
        raise EOFError("connection closed")
    return line.decode().rstrip("\r\n")


def query(hostport, user, password_file, pairs):
    host, port = hostport.rsplit(":", 1)
    with open(password_file) as fh:
        password = fh.read().strip()
    s = socket.create_connection((host, int(port)), timeout=10)
    f = s.makefile("rb")
    info = read_line(f)
    assert info.startswith("INFO "), info
    connect = {"verbose": False, "pedantic": False, "user": user, "pass": password,
               "name": "compose-test-query", "lang": "python", "version": "0", "protocol": 1,
               "headers": True, "no_responders": True}
    inbox = "_INBOX.ct" + uuid.uuid4().hex
    out = [f"CONNECT {json.dumps(connect)}\r\n", f"SUB {inbox}.* 1\r\n"]
    for i, (subject, args) in enumerate(pairs):
        payload = args.encode()
        out.append(f"PUB {subject} {inbox}.{i} {len(payload)}\r\n{args}\r\n")
    out.append("PING\r\n")
    s.sendall("".join(out).encode())
    answers = {}
    while len(answers) < len(pairs):
        line = read_line(f)
        if line == "PING":
            s.sendall(b"PONG\r\n")
        elif line.startswith("-ERR"):
            print(line, file=sys.stderr)
            return 1
        elif line.startswith("HMSG "):  # a status: 503 = no responders
            parts = line.split()
            hdr = f.read(int(parts[-1]) + 2)[: int(parts[-2])].decode().splitlines()
            print(f"{pairs[int(parts[1].rsplit('.', 1)[1])][0]}: {hdr[0] if hdr else '?'}", file=sys.stderr)
            return 1
        elif line.startswith("MSG "):
            parts = line.split()
            n = int(parts[-1])
            body = f.read(n + 2)[:n]
            answers[int(parts[1].rsplit(".", 1)[1])] = json.loads(body)
    for i in range(len(pairs)):
        print(json.dumps(answers[i]))
    s.close()
    return 0


def route(hostport, ca, cert=None, key=None, user=None, password=None):
    host, port = hostport.rsplit(":", 1)
    res = {"tls": None, "answer": None}
    s = socket.create_connection((host, int(port)), timeout=10)
    # A TLS route port starts the handshake at once (no plaintext INFO); a
    # plaintext one sends INFO first.
    s.settimeout(1.5)
    try:
        first = s.recv(4096, socket.MSG_PEEK)
    except socket.timeout:
        first = b""
    s.settimeout(10)
    res["plaintext_info"] = first.startswith(b"INFO ")
    if res["plaintext_info"]:
        s.makefile("rb").readline()
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False  # the node certificate names nats1..3, not an IP
    if cert:
        ctx.load_cert_chain(cert, key)
    try:
        t = ctx.wrap_socket(s, server_hostname=host)
        t.settimeout(10)
        res["tls"] = "ok"
    except (ssl.SSLError, OSError) as e:
        res["tls"] = f"{type(e).__name__}: {e}"
        print(json.dumps(res))
        return 0
    connect = {"verbose": False, "pedantic": False, "tls_required": True,
               "name": "rogue-route", "cluster": "taonet"}
    if user:
        connect["user"], connect["pass"] = user, password
    try:
        t.sendall(f"CONNECT {json.dumps(connect)}\r\nPING\r\n".encode())
        tf = t.makefile("rb")
        while True:
            line = read_line(tf)
            if not line.startswith("INFO "):
                res["answer"] = line
                break
    except (ssl.SSLError, OSError, EOFError) as e:
        # A TLS 1.3 server refuses a missing client certificate after the
        # handshake: the first read fails.
        res["answer"] = f"{type(e).__name__}: {e}"
    print(json.dumps(res))
    return 0


def main(argv):
    if len(argv) >= 5 and argv[1] == "query" and len(argv[5:]) % 2 == 0:
        a = argv[5:]
        return query(argv[2], argv[3], argv[4], list(zip(a[::2], a[1::2])))
    if len(argv) in (4, 6, 8) and argv[1] == "route":
        return route(*argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
