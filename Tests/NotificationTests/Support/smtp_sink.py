#!/usr/bin/python3
"""A real SMTP server for notification tests and benchmarks (Debian's python3-aiosmtpd).

Usage: /usr/bin/python3 smtp_sink.py --port N [--dir DIR] [--fail-first N] [--delay-ms MS] [--answer-delay-ms MS]
           [--auth USER:PASSWORD] [--starttls CERT,KEY | --implicit-tls CERT,KEY]

Stores each accepted message as DIR/<seq>.eml with DIR/<seq>.json (envelope sender, recipients).
--fail-first N answers "451 4.3.0 try again later" to the first N messages, then accepts.
--answer-delay-ms MS stores an accepted message, then waits MS before answering (a relay that
took the message and is slow to say so: a client that gives up sends it again).
--reject-rcpt TEXT answers "550 5.1.1 no such user" to every recipient containing TEXT.
--defer-rcpt TEXT:N answers "450 4.2.1 mailbox busy, try later" to the first N recipients containing TEXT.
--refuse-sessions N greets the first N connections with "554 5.3.2 ..." and closes them (RFC 5321
3.1: a server refusing the session, not a message).
--auth requires AUTH (PLAIN/LOGIN) with these credentials; --starttls requires STARTTLS before
MAIL; --implicit-tls speaks TLS from the first byte (smtps).
Without --dir it only counts. Prints "ready <port>" on stdout once listening; prints the count
of accepted messages to stdout on SIGTERM.
"""
import argparse
import asyncio
import ssl
import json
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class RefusingSMTP(SMTP):
    """Greets with 554 and closes while the handler still has sessions to refuse."""

    async def _handle_client(self):
        if self.event_handler.refuse_session():
            await self.push("554 5.3.2 servidor ocupado, tente mais tarde / server busy, try later")
            self.transport.close()
            return
        await super()._handle_client()


class RefusingController(Controller):
    def factory(self):
        return RefusingSMTP(self.handler, **self.SMTP_kwargs)


class Handler:
    def __init__(self, directory, fail_first, delay_ms, reject_rcpt="", answer_delay_ms=0, defer_rcpt="", refuse_sessions=0):
        self.reject_rcpt = reject_rcpt
        self.defer_text, _, deferrals = defer_rcpt.partition(":")
        self.deferrals = int(deferrals or 0)
        self.refusals = refuse_sessions
        self.refused_sessions = 0
        self.armed = False
        self.answer_delay_ms = answer_delay_ms
        self.rejected = 0
        self.directory = directory
        self.fail_first = fail_first
        self.delay_ms = delay_ms
        self.seen = 0
        self.accepted = 0
        self.lock = threading.Lock()

    def refuse_session(self):
        with self.lock:
            # Not the controller's own check that the server is up (its connection at start).
            if not self.armed or self.refused_sessions >= self.refusals:
                return False
            self.refused_sessions += 1
            count = self.refused_sessions
        if self.directory:
            with open(os.path.join(self.directory, "refused-sessions.count"), "w") as f:
                f.write(str(count))
        return True

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_rcpt and self.reject_rcpt in address:
            with self.lock:
                self.rejected += 1
            if self.directory:
                with open(os.path.join(self.directory, "rejected.count"), "w") as f:
                    f.write(str(self.rejected))
            return "550 5.1.1 no such user"
        if self.defer_text and self.defer_text in address:
            with self.lock:
                defer = self.deferrals > 0
                self.deferrals -= 1
            if defer:
                return "450 4.2.1 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.seen += 1
            seen = self.seen
        if self.delay_ms:
            await asyncio.sleep(self.delay_ms / 1000)
        if seen <= self.fail_first:
            return "451 4.3.0 try again later"
        with self.lock:
            self.accepted += 1
            number = self.accepted
        if self.directory:
            base = os.path.join(self.directory, "%06d" % number)
            with open(base + ".tmp", "wb") as f:
                f.write(envelope.original_content or envelope.content)
            with open(base + ".json", "w") as f:
                json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos}, f)
            os.rename(base + ".tmp", base + ".eml")
        if self.answer_delay_ms:
            await asyncio.sleep(self.answer_delay_ms / 1000)
        return "250 2.0.0 OK queued as %d" % number


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", default="")
    parser.add_argument("--fail-first", type=int, default=0)
    parser.add_argument("--delay-ms", type=int, default=0)
    parser.add_argument("--answer-delay-ms", type=int, default=0)
    parser.add_argument("--reject-rcpt", default="")
    parser.add_argument("--defer-rcpt", default="")
    parser.add_argument("--refuse-sessions", type=int, default=0)
    parser.add_argument("--auth", default="")
    parser.add_argument("--starttls", default="")
    parser.add_argument("--implicit-tls", default="")
    args = parser.parse_args()
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)
    handler = Handler(args.dir, args.fail_first, args.delay_ms, args.reject_rcpt, args.answer_delay_ms, args.defer_rcpt,
                      args.refuse_sessions)
    options = {}
    if args.auth:
        user, password = args.auth.split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
            return AuthResult(success=ok, handled=False)

        options.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(args.starttls))
    if args.starttls:
        cert, key = args.starttls.split(",")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options.update(tls_context=context, require_starttls=True)
    if args.implicit_tls:
        cert, key = args.implicit_tls.split(",")
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options.update(ssl_context=context)
    controller = RefusingController(handler, hostname="127.0.0.1", port=args.port, decode_data=False, **options)
    controller.start()
    handler.armed = True
    print("ready %d" % args.port, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    done.wait()
    controller.stop()
    print("accepted %d" % handler.accepted, flush=True)


if __name__ == "__main__":
    main()
