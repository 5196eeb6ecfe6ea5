"""What the integration tests over tcp://127.0.0.1 with CurveZMQ share: the binaries
($MINGA_BIN or PATH), fail/check, free ports, and TcpEnv — a temporary directory with a store
path, a key directory, three endpoints on free ports, the processes started (logs in the
directory, killed at the end) and `minga keygen` pairs allowed in a certificate directory."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("MINGA_BIN", "")
T0 = time.time()


def b(name):
    return os.path.join(BIN, name) if BIN else name


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    if os.environ.get("MINGA_TEST_TRACE"):
        print("%6.2f %s" % (time.time() - T0, msg.split(":")[0]), file=sys.stderr)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class TcpEnv:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="minga-", dir="/tmp")
        self.store = os.path.join(self.dir, "s")
        self.keys = os.path.join(self.dir, "k")
        self.procs = []
        self.ports = {n: free_port() for n in ("clients", "workers", "events")}
        self.env = dict(os.environ)

    def ep(self, name):
        return "tcp://127.0.0.1:%d" % self.ports[name]

    def keygen(self, name, allow=None):
        """A pair NAME.cert + NAME.cert_secret in the key directory; the public one copied to
        the certificate directory ALLOW (below the test's directory) when given."""
        r = subprocess.run([b("minga"), "keygen", name, "--dir", self.keys],
                           capture_output=True, text=True, env=self.env, timeout=60)
        check(r.returncode == 0, "keygen %s: %s" % (name, r.stderr))
        pub = os.path.join(self.keys, name + ".cert")
        check(r.stdout.split() == [pub, pub + "_secret"], "keygen prints the paths: %r"
              % r.stdout)
        check(os.stat(pub + "_secret").st_mode & 0o077 == 0, "secret key is private")
        if allow:
            os.makedirs(os.path.join(self.dir, allow), exist_ok=True)
            shutil.copy(pub, os.path.join(self.dir, allow))
        return pub

    def start(self, args, log, cwd=None, env=None):
        p = subprocess.Popen(args, stdout=subprocess.DEVNULL, cwd=cwd, env=env or self.env,
                             stderr=open(os.path.join(self.dir, log), "a"))
        self.procs.append(p)
        return p

    def log(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read()

    def stop(self, p):
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def main(env, run, tail=3000):
    """Runs run(env); on any failure prints the tail of every log, then cleans up."""
    try:
        run(env)
    except BaseException:
        for name in sorted(os.listdir(env.dir)):
            if name.endswith(".log"):
                print("--- %s\n%s" % (name, env.log(name)[-tail:]), file=sys.stderr)
        raise
    finally:
        env.cleanup()
    print("ok")
