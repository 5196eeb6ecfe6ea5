"""notify_lib.py: shared by the test_notify_*.py integration tests (imported, not a test).

Each test gets its own short store (mktemp -d /tmp/minga-XXXXXX) loaded with the demo data
set, scored and scheduled through a local broker and match worker, a real SMTP server on loopback (smtp_server.py, aiosmtpd) and a configuration naming it;
`minga down` and the server's stop always run at exit. Messages the server took are parsed
with Python's email package (policy.default).
"""
import atexit
import email
import email.parser
import email.policy
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("MINGA_BIN", "")
EVENT = "jornada-2026"
PYTHON = "/usr/bin/python3"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


class Env:
    def __init__(self, scale=None, server_args=(), smtp_extra="", broker_extra="",
                 schedule=True):
        if not BIN:
            fail("MINGA_BIN must name the bin directory of the build")
        os.environ["PATH"] = BIN + os.pathsep + os.environ["PATH"]
        os.environ.pop("MINGA_STORE", None)
        self.store = tempfile.mkdtemp(prefix="minga-", dir="/tmp")
        self.maildir = os.path.join(self.store, "smtp")
        self.server = None
        self.server_args = list(server_args)
        self.smtp_extra = smtp_extra
        self.broker_extra = broker_extra
        self.port = 0
        atexit.register(self.cleanup)
        if True:
            data = os.path.join(self.store, "data")
            self.m("demo-data", "--out", data, "--scale", str(scale or 1), check_rc=True)
            self.m("init", check_rc=True)
            for kind in ("gads", "cooperantes", "offers", "demands", "events", "participants",
                         "preferences"):
                args = ["import", kind, os.path.join(data, kind + ".csv")]
                if kind in ("participants", "preferences"):
                    args += ["--event", EVENT]
                self.m(*args, check_rc=True)
        self.start_server()
        if schedule:
            # notify refuses an event without a timetable: score and schedule it first
            self.m("up", "--match-workers", "1", "--notify-workers", "0", "--report-workers",
                   "0", "--test-workers", "0", check_rc=True)
            self.m("rueda", "score", EVENT, check_rc=True, timeout=300)
            self.m("rueda", "schedule", EVENT, check_rc=True, timeout=300)

    # ---- processes ----

    def m(self, *args, check_rc=False, config=True, timeout=120):
        cmd = ["minga", "--store", self.store, "--timeout", "10"]
        if config and os.path.exists(self.config_path()):
            cmd += ["--config", self.config_path()]
        p = subprocess.run(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        if check_rc and p.returncode != 0:
            fail("minga %s: exit %d\n%s%s" % (" ".join(args), p.returncode, out, err))
        return p.returncode, out, err

    def config_path(self):
        return os.path.join(self.store, "minga.cfg")

    def write_config(self):
        with open(self.config_path(), "w") as f:
            f.write("smtp\n    host = \"127.0.0.1\"\n    port = %d\n" % self.port)
            f.write("    from = \"rueda@ame.gob.ec\"\n    domain = \"minga.test\"\n")
            f.write(self.smtp_extra)
            # short heartbeats: a killed worker's job is queued again within a second
            f.write("broker\n    retry_base_ms = 200\n    retry_max_ms = 1000\n")
            f.write("    heartbeat_ms = 200\n")
            f.write(self.broker_extra)
            f.write("worker\n    heartbeat_ms = 200\n")

    def start_server(self, extra=None):
        args = self.server_args if extra is None else list(extra)
        os.makedirs(self.maildir, exist_ok=True)
        portfile = os.path.join(self.maildir, "port")
        if os.path.exists(portfile):
            os.unlink(portfile)
        cmd = [PYTHON, os.path.join(HERE, "smtp_server.py"), "--dir", self.maildir,
               "--port", str(self.port)] + args
        self.server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                       stderr=open(os.path.join(self.store, "smtp.log"), "a"))
        for _ in range(200):
            if os.path.exists(portfile):
                break
            if self.server.poll() is not None:
                fail("smtp_server.py exited with %d" % self.server.returncode)
            time.sleep(0.05)
        else:
            fail("smtp_server.py did not start")
        self.port = int(open(portfile).read())
        self.write_config()

    def stop_server(self):
        if self.server and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self.server = None

    def up(self, notify=1):
        self.m("up", "--match-workers", "0", "--notify-workers", str(notify),
               "--report-workers", "0", "--test-workers", "0", check_rc=True)

    def pid(self, name):
        try:
            return int(open(os.path.join(self.store, "run", name + ".pid")).read())
        except (OSError, ValueError):
            return 0

    def cleanup(self):
        try:
            self.m("down", "--drain-timeout", "5", timeout=60)
        except Exception:
            pass
        self.stop_server()
        if os.environ.get("MINGA_TEST_KEEP"):
            print("kept " + self.store, file=sys.stderr)
        else:
            shutil.rmtree(self.store, ignore_errors=True)

    def logs(self):
        for f in sorted(glob.glob(os.path.join(self.store, "log", "*.log"))):
            print("== " + f, file=sys.stderr)
            print("".join(open(f, errors="replace").readlines()[-20:]), file=sys.stderr)

    # ---- what was delivered ----

    def count(self):
        """How many messages the server stored."""
        return len(glob.glob(os.path.join(self.maildir, "*.eml")))

    def messages(self, start=0, headers_only=False):
        """The messages the server stored (from the start-th on), parsed: a list of
        email.message.EmailMessage, in the order the server took them (headers_only: only
        their headers are parsed, for the tests that count Message-IDs)."""
        out = []
        parser = email.parser.BytesHeaderParser(policy=email.policy.default)
        for f in sorted(glob.glob(os.path.join(self.maildir, "*.eml")))[start:]:
            with open(f, "rb") as fh:
                data = fh.read()
            if headers_only:
                out.append(parser.parsebytes(data))
            else:
                out.append(email.message_from_bytes(data, policy=email.policy.default))
        return out

    def outbox(self, *extra):
        rc, out, err = self.m("outbox", "--event", EVENT, "--json", *extra, check_rc=True)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def participants(self):
        """Participants with an e-mail address, from `minga export participants`."""
        rc, out, err = self.m("export", "participants", "--event", EVENT, "--format", "json",
                              check_rc=True)
        return json.loads(out)


def exactly_once(env, msgs, parties):
    """Every party of parties has exactly one distinct Message-ID per version it was sent,
    and its latest version was delivered; returns {party: set(versions)}."""
    by = {}
    for msg in msgs:
        p, v, mid = msg["X-Minga-Party"], msg["X-Minga-Version"], msg["Message-ID"]
        check(p and v and mid, "a message without X-Minga-Party/Version or Message-ID")
        by.setdefault((p, v), set()).add(mid)
    for (p, v), ids in by.items():
        check(len(ids) == 1, "party %s v%s: %d distinct Message-IDs %s" % (p, v, len(ids), ids))
    seen = {}
    for (p, v) in by:
        seen.setdefault(p, set()).add(int(v))
    missing = [p for p in parties if p not in seen]
    check(not missing, "%d parties got no message, e.g. %s" % (len(missing), missing[:5]))
    return seen
