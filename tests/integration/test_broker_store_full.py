#!/usr/bin/python3
"""A full store (the map at its maximum, MINGA_STORE_MAP_MAX): ENQUEUE answers store_full and
stores nothing of the refused request; every job accepted before stays and completes; once
space is back (ended jobs purged after result_retention_s) enqueue works again, without a
restart."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker_proto import Broker, Client, Worker, check  # noqa: E402

MAP_MAX = 64 << 20          # the store's initial map: it cannot grow at all
BODY = "x" * (400 << 10)    # 400 KiB per job


def main():
    b = Broker(["--result-retention-s", "0", "--max-body", str(1 << 20)],
               env={"MINGA_STORE_MAP_MAX": str(MAP_MAX)})
    try:
        c = Client(b, timeout=20000)
        accepted, refused = [], None
        for i in range(400):
            cmd, r = c.call("ENQUEUE", {"type": "test.echo", "body": {"i": i, "pad": BODY},
                                        "key": "full-%d" % i})
            if cmd == "ERROR":
                refused = (i, r)
                break
            accepted.append(r["id"])
        check(refused is not None, "the store never filled up")
        i, r = refused
        check(r["code"] == "store_full", "refused with store_full: %r" % r)
        check(len(accepted) > 10, "some jobs fitted: %d" % len(accepted))
        # nothing of the refused request was stored: its key is free, its id unknown
        cmd, r = c.call("LIST", {"limit": 1000}, "LIST")
        check(sorted(j["id"] for j in r["jobs"]) == sorted(accepted),
              "exactly the accepted jobs are stored")
        cmd, r = c.call("PING", {}, "PING")
        # every accepted job completes (the worker returns a small result)
        w = Worker(b, capacity=4)
        done = 0
        deadline = time.time() + 60
        while done < len(accepted) and time.time() < deadline:
            job = w.next_job(1000)
            if job:
                check(job["body"]["pad"] == BODY, "body intact")
                w.send("DONE", {"id": job["id"], "result": job["body"]["i"]})
                done += 1
        check(done == len(accepted), "all accepted jobs ran: %d of %d" % (done, len(accepted)))
        # space comes back as ended jobs are purged; then enqueue works again
        deadline = time.time() + 30
        ok = False
        while time.time() < deadline and not ok:
            cmd, r = c.call("ENQUEUE", {"type": "test.echo", "body": {"pad": BODY},
                                        "key": "after-%f" % time.time()})
            ok = cmd == "ENQUEUE"
            if not ok:
                check(r["code"] == "store_full", "only store_full while full: %r" % r)
                time.sleep(0.5)
        check(ok, "enqueue works again once space is back")
        job = w.next_job(5000)
        check(job is not None, "new job leased")
        w.send("DONE", {"id": job["id"]})
        check(c.wait(job["id"], 5000)["job"]["state"] == "done", "new job done")
        check(b.alive() and b.stop() == 0, "clean stop")
        print("ok: store_full after %d jobs; all accepted completed; enqueue works again"
              % len(accepted))
    except BaseException:
        print(b.log_text()[-3000:], file=sys.stderr)
        raise
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
