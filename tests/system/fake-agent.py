#!/usr/bin/python3
# A stand-in host agent for the system tests, speaking just enough peer-to-peer D-Bus:
# listens on SOCKET, answers the client's SASL EXTERNAL handshake, then sends COUNT
# io.lima.lima1.HostAgent.Progress signals as fast as it can (0: none) and keeps the
# connection open until killed. Prints "connected" to stdout for each client. With PIDFILE,
# writes its pid there (what limad reads as ha.pid); a last argument "lima-hostagent" puts
# the name limad looks for in its command line.
#
#   fake-agent.py SOCKET COUNT [PIDFILE [lima-hostagent]]
import os
import socket
import struct
import sys


def pad(buf, align):
    return buf + b"\0" * ((-len(buf)) % align)


def string(buf, s, sig=False):
    raw = s.encode()
    buf = pad(buf, 1 if sig else 4)
    head = struct.pack("<B", len(raw)) if sig else struct.pack("<I", len(raw))
    return buf + head + raw + b"\0"


def field(buf, code, sig, value):
    buf = pad(buf, 8) + struct.pack("<B", code)
    buf = string(buf, sig, sig=True)
    return string(buf, value, sig=(sig == "g"))


def progress(serial, i):
    body = string(b"", "attack")
    body = pad(body, 8) + struct.pack("<d", 0.5)
    body = string(body, "spam %d" % i)
    fields = b""
    fields = field(fields, 1, "o", "/io/lima/lima1/hostagent")
    fields = field(fields, 2, "s", "io.lima.lima1.HostAgent")
    fields = field(fields, 3, "s", "Progress")
    fields = field(fields, 8, "g", "sds")
    head = struct.pack("<cBBBII", b"l", 4, 1, 1, len(body), serial)
    head += struct.pack("<I", len(fields)) + fields
    return pad(head, 8) + body


def handshake(conn):
    data = b""
    while True:
        chunk = conn.recv(4096)
        if not chunk:
            return False
        data += chunk
        while b"\r\n" in data:
            line, data = data.split(b"\r\n", 1)
            line = line.lstrip(b"\0")
            # sd-bus sends "AUTH EXTERNAL" without a response and an empty "DATA".
            if line == b"AUTH EXTERNAL":
                conn.sendall(b"DATA\r\n")
            elif line.startswith(b"AUTH") or line.startswith(b"DATA"):
                conn.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")
            elif line.startswith(b"NEGOTIATE_UNIX_FD"):
                conn.sendall(b"AGREE_UNIX_FD\r\n")
            elif line.startswith(b"BEGIN"):
                return True


def main():
    path, count = sys.argv[1], int(sys.argv[2])
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w") as f:
            f.write("%d\n" % os.getpid())
    keep = []
    while True:
        conn, _ = srv.accept()
        print("connected", flush=True)
        if not handshake(conn):
            conn.close()
            continue
        try:
            for i in range(count):
                conn.sendall(progress(i + 1, i))
        except OSError:
            pass
        keep.append(conn)


main()
