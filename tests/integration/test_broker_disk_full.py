#!/usr/bin/python3
"""A full disk under the store (a small tmpfs, filled up by another file): ENQUEUE answers
store_full and stores nothing of the refused request; the jobs accepted before stay; once
space is back (the other file removed) the broker goes on without a restart: enqueue works
again and every accepted job completes. Skipped where a tmpfs cannot be mounted."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker_proto import Broker, Client, Worker, check  # noqa: E402

BODY = "x" * (100 << 10)


def main():
    top = tempfile.mkdtemp(prefix="minga-", dir="/tmp")
    mnt = os.path.join(top, "d")
    os.mkdir(mnt)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", mnt],
                      stderr=subprocess.DEVNULL).returncode != 0:
        print("test_broker_disk_full: cannot mount a tmpfs here: skipped")
        os.rmdir(mnt)
        os.rmdir(top)
        return
    b = None
    try:
        store = os.path.join(mnt, "s")
        os.mkdir(store)
        b = Broker(store=store)
        filler = os.path.join(mnt, "filler")
        c = Client(b, timeout=20000)
        accepted = [c.enqueue("test.echo", {"i": i, "pad": BODY})["id"] for i in range(20)]
        # fill the disk: what is left is less than a few jobs
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * (256 << 10))
                    f.flush()
            except OSError:
                pass
        refused = None
        for i in range(400):
            cmd, r = c.call("ENQUEUE", {"type": "test.echo", "body": {"i": 100 + i, "pad": BODY},
                                        "key": "disk-%d" % i})
            if cmd == "ERROR":
                refused = (i, r)
                break
            accepted.append(r["id"])
        check(refused is not None, "the disk never filled up")
        i, r = refused
        check(r["code"] == "store_full", "refused with store_full: %r" % r)
        cmd, r = c.call("ENQUEUE", {"type": "test.echo", "key": "disk-%d" % i})
        check(cmd == "ERROR" and r["code"] == "store_full", "still full: %s %r" % (cmd, r))
        check(b.alive(), "broker alive on a full disk")
        # space comes back
        os.unlink(filler)
        deadline = time.time() + 20
        ok = None
        while time.time() < deadline and ok is None:
            cmd, r = c.call("ENQUEUE", {"type": "test.echo", "body": {"after": True},
                                        "key": "disk-%d" % i})
            if cmd == "ENQUEUE":
                ok = r["id"]
            else:
                time.sleep(0.3)
        check(ok is not None, "enqueue works again once space is back")
        accepted.append(ok)
        w = Worker(b, capacity=4)
        done = set()
        deadline = time.time() + 60
        while len(done) < len(accepted) and time.time() < deadline:
            job = w.next_job(1000)
            if job:
                w.send("DONE", {"id": job["id"]})
                done.add(job["id"])
        check(done == set(accepted), "every accepted job ran: %d of %d"
              % (len(done & set(accepted)), len(accepted)))
        for jid in accepted:
            check(c.wait(jid, 5000)["job"]["state"] == "done", "job %d done" % jid)
        check(b.stop() == 0, "clean stop")
        print("ok: disk full -> store_full after %d jobs; space back -> all done" % len(accepted))
    except BaseException:
        if b:
            print(b.log_text()[-3000:], file=sys.stderr)
        raise
    finally:
        if b:
            b.stop()
        subprocess.run(["umount", "-l", mnt], stderr=subprocess.DEVNULL)
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    main()
