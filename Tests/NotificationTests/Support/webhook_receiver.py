#!/usr/bin/python3
"""A webhook receiver for notification tests and benchmarks: verifies the signature of each POST.

Usage: /usr/bin/python3 webhook_receiver.py --port N --secret S [--dir DIR] [--fail-first N]
           [--body ok|stall|huge] [--redirect URL]

Checks that X-Ocorrencias-Signature holds "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body))
(one of its comma-separated signatures, as during a secret rotation's overlap).
A bad signature is answered 401. --fail-first N answers 503 to the first N requests.
--body stall answers an accepted request "200" announcing a 1 MB body, sends 100 bytes of it and
then nothing more; --body huge sends a 200 MB body as fast as the client reads it;
--redirect URL answers it "307 Temporary Redirect" to URL.
Stores each accepted request as DIR/<seq>.json: {"headers": {...}, "body": <parsed JSON>,
"verified": true}. Prints "ready <port>" once listening.
"""
import argparse
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--dir", default="")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--body", choices=["ok", "stall", "huge"], default="ok")
    parser.add_argument("--redirect", default="")
    args = parser.parse_args()
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)
    state = {"seen": 0, "accepted": 0, "rejected": 0}
    lock = threading.Lock()
    secret = args.secret.encode()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def answer(self, code, text):
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            timestamp = self.headers.get("X-Ocorrencias-Timestamp", "")
            signature = self.headers.get("X-Ocorrencias-Signature", "")
            expected = "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            with lock:
                state["seen"] += 1
                seen = state["seen"]
            if seen <= args.fail_first:
                return self.answer(503, "unavailable")
            # During a secret rotation's overlap the header lists two signatures: any may match.
            if not any(hmac.compare_digest(expected, part.strip()) for part in signature.split(",")):
                with lock:
                    state["rejected"] += 1
                return self.answer(401, "bad signature")
            with lock:
                state["accepted"] += 1
                number = state["accepted"]
            if args.dir:
                record = {"headers": {k: v for k, v in self.headers.items()}, "body": json.loads(body), "verified": True}
                path = os.path.join(args.dir, "%06d" % number)
                with open(path + ".tmp", "w") as f:
                    json.dump(record, f)
                os.rename(path + ".tmp", path + ".json")
            if args.redirect:
                self.send_response(307)
                self.send_header("Location", args.redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if args.body == "ok":
                return self.answer(200, "ok")
            self.send_response(200)
            self.send_header("Content-Length", str(1_000_000 if args.body == "stall" else 200_000_000))
            self.end_headers()
            try:
                if args.body == "stall":
                    self.wfile.write(b"x" * 100)
                    self.wfile.flush()
                    time.sleep(60)
                else:
                    chunk = b"y" * 65536
                    for _ in range(200_000_000 // 65536):
                        self.wfile.write(chunk)
            except OSError:
                pass
            self.close_connection = True

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print("ready %d" % args.port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    server.shutdown()
    print("accepted %d rejected %d" % (state["accepted"], state["rejected"]), flush=True)


if __name__ == "__main__":
    main()
