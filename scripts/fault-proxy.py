#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for the sync tests: one request per connection, and at random
drops the connection before forwarding, loses the response after head office answered (and
committed), sends the request twice, or delays it. With --sign it instead signs every request as
a store (for schemathesis, whose generated requests cannot sign themselves).

    fault-proxy.py LISTEN_PORT TARGET_PORT [--seed N] [--fault-percent P] [--sign STORE_ID SECRET_FILE]

Prints "fault-proxy listening on PORT" when ready; counts of each fault on SIGTERM (stderr).
"""
import hashlib, hmac, random, signal, socket, socketserver, sys, threading, time, uuid

listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
fault_percent = int(sys.argv[sys.argv.index("--fault-percent") + 1]) if "--fault-percent" in sys.argv else 40
signing = None
if "--sign" in sys.argv:
    at = sys.argv.index("--sign")
    signing = (sys.argv[at + 1], open(sys.argv[at + 2]).read().strip())
    fault_percent = 0
rng = random.Random(seed)
lock = threading.Lock()
counts = {"pass": 0, "drop_request": 0, "lose_response": 0, "duplicate": 0, "delay": 0, "upstream_down": 0}

def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    lines = head.split(b"\r\n")
    kept = []
    for line in lines:
        name = line.split(b":", 1)[0].strip().lower()
        if name == b"content-length":
            length = int(line.split(b":", 1)[1])
        if name == b"connection" or (signing and name.startswith(b"x-loyalty-")):
            continue
        kept.append(line)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        body += chunk
    if signing:
        store, secret = signing
        # Aim every generated request at the signing store, so fuzzing reaches past authentication.
        method, path, version = kept[0].decode().split(" ", 2)
        parts = path.split("/")
        if len(parts) > 4 and parts[1:3] == ["v1", "stores"]:
            parts[3] = store
            path = "/".join(parts)
            kept[0] = ("%s %s %s" % (method, path, version)).encode()
        ts, nonce = str(int(time.time())), str(uuid.uuid4())
        message = "%s\n%s\n%s\n%s\n%s" % (method, path, hashlib.sha256(body).hexdigest(), ts, nonce)
        signature = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
        for header in ["X-Loyalty-Store: " + store, "X-Loyalty-Timestamp: " + ts, "X-Loyalty-Nonce: " + nonce,
                       "X-Loyalty-Signature: " + signature]:
            kept.append(header.encode())
    return b"\r\n".join(kept) + b"\r\nConnection: close\r\n\r\n" + body

def forward(request):
    upstream = socket.create_connection(("127.0.0.1", target_port), timeout=30)
    try:
        upstream.sendall(request)
        response = b""
        while True:
            chunk = upstream.recv(65536)
            if not chunk:
                break
            response += chunk
        return response
    finally:
        upstream.close()

class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        request = read_request(self.request)
        if request is None:
            return
        with lock:
            roll = rng.randrange(100)
            kind = "pass"
            if roll < fault_percent:
                kind = ["drop_request", "lose_response", "duplicate", "delay"][roll % 4]
            delay = rng.uniform(0.05, 0.4)
        try:
            if kind == "drop_request":
                pass
            elif kind == "lose_response":
                forward(request)  # head office processes (and commits) it; the answer is lost
            elif kind == "duplicate":
                forward(request)
                self.request.sendall(forward(request))
            else:
                if kind == "delay":
                    time.sleep(delay)
                self.request.sendall(forward(request))
        except OSError:
            kind = "upstream_down"
        with lock:
            counts[kind] += 1

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

def stop(*_):
    sys.stderr.write("fault-proxy: %s\n" % counts)
    sys.stderr.flush()
    sys.exit(0)

# A parent may have spawned us with SIGTERM blocked (threads of test runners often block signals).
signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
signal.signal(signal.SIGTERM, stop)
server = Server(("127.0.0.1", listen_port), Handler)
print("fault-proxy listening on %d" % listen_port, flush=True)
server.serve_forever()
