#!/usr/bin/python3
"""smtp_server.py: a real SMTP server on loopback for Minga's notify tests (aiosmtpd).

Stores every message it accepts as DIR/NNNNNN.eml (written before it answers 250)
and appends one JSON line per accepted message to DIR/log.jsonl (seq, rcpt, message_id,
bytes). It can misbehave on purpose:

  --temp-fail N        answer the first N DATA commands with 421 (then 250)
  --reject ADDR        answer RCPT TO:<ADDR> with 550 (the other recipients are fine)
  --vanish-after N     after accepting N messages, exit at once (no QUIT, no reply to the
                       next command): the server disappears in the middle of a batch
  --delay-ms MS        wait MS before answering each DATA
  --port P             listen on P (0: any free port); the bound port is written to
                       DIR/port once the server is listening

Not a test by itself (no test_ prefix): the tests start it with /usr/bin/python3.
"""
import argparse
import asyncio
import json
import os
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, args):
        self.args = args
        self.dir = args.dir
        self.temp_left = args.temp_fail
        self.seq = self._last_seq()
        self.accepted = 0

    def _last_seq(self):
        n = 0
        for f in os.listdir(self.dir):
            if f.endswith(".eml") and f[:-4].isdigit():
                n = max(n, int(f[:-4]))
        return n

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.args.reject and address.lower() == self.args.reject.lower():
            return "550 5.1.1 <%s>: buzón inexistente" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.delay_ms:
            await asyncio.sleep(self.args.delay_ms / 1000.0)
        if self.temp_left > 0:
            self.temp_left -= 1
            return "421 4.3.2 servicio no disponible, intente más tarde"
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        self.seq += 1
        path = os.path.join(self.dir, "%06d.eml" % self.seq)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.rename(path + ".tmp", path)
        msgid = ""
        for line in data.split(b"\r\n"):
            if not line:
                break
            if line.lower().startswith(b"message-id:"):
                msgid = line.split(b":", 1)[1].strip().decode("ascii", "replace")
        with open(os.path.join(self.dir, "log.jsonl"), "a") as f:
            f.write(json.dumps({"seq": self.seq, "rcpt": envelope.rcpt_tos,
                                "message_id": msgid, "bytes": len(data)}) + "\n")
        self.accepted += 1
        if self.args.vanish_after and self.accepted >= self.args.vanish_after:
            # vanish: the message is stored but the 250 never reaches the client
            os._exit(0)
        return "250 2.0.0 OK queued as %06d" % self.seq


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--temp-fail", type=int, default=0)
    ap.add_argument("--reject", default="")
    ap.add_argument("--vanish-after", type=int, default=0)
    ap.add_argument("--delay-ms", type=int, default=0)
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Handler(args)
    port = args.port
    if port == 0:
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
    import signal
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    ctl = Controller(handler, hostname="127.0.0.1", port=port, decode_data=False,
                     data_size_limit=10 * 1024 * 1024, server_hostname="minga-test-smtp",
                     ready_timeout=10)
    ctl.start()
    with open(os.path.join(args.dir, "port.tmp"), "w") as f:
        f.write("%d\n" % port)
    os.rename(os.path.join(args.dir, "port.tmp"), os.path.join(args.dir, "port"))
    try:
        signal.sigwait({signal.SIGTERM, signal.SIGINT})
    finally:
        ctl.stop()


if __name__ == "__main__":
    sys.exit(main())
