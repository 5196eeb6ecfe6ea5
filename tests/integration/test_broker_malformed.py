#!/usr/bin/python3
"""Malformed input: every bad client or worker message gets an ERROR reply with the code
PROTOCOL.md §9 names (or DISCONNECT not_ready for an unregistered worker), and the broker
goes on serving."""
import os
import sys
import time

import msgpack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_broker_proto import VERSION, Broker, Client, Worker, check  # noqa: E402


def expect_error(c, frames, code, what):
    c.send_raw(frames)
    try:
        got = c.recv_raw(5000)
    except TimeoutError:
        check(False, "%s: no reply" % what)
    # replies mirror the framing: with or without the empty delimiter
    if got and got[0] == b"":
        got = got[1:]
    check(len(got) == 3 and got[0] == VERSION and got[1] == b"ERROR", "%s: %r" % (what, got))
    body = msgpack.unpackb(got[2], raw=False)
    check(body["code"] == code, "%s: expected %s, got %r" % (what, code, body))
    check(isinstance(body["message"], str) and body["message"], "%s: message" % what)
    return body


def main():
    b = Broker(["--max-body", "4096"])
    try:
        c = Client(b)
        P = msgpack.packb
        E = b""
        cases = [
            ([E, VERSION, b"PING"], "bad_frame", "too few frames"),
            ([E, VERSION, b"PING", P({}), b"x"], "bad_frame", "too many frames"),
            ([E], "bad_frame", "only the delimiter"),
            ([E, b"MINGA99", b"PING", P({})], "bad_version", "unknown version"),
            ([E, b"", b"PING", P({})], "bad_version", "empty version"),
            ([E, VERSION, b"", P({})], "bad_frame", "empty command"),
            ([E, VERSION, b"FROB", P({})], "unknown_command", "unknown command"),
            ([E, VERSION, b"READY", P({"types": ["test.echo"]})], "unknown_command",
             "worker command on the client socket"),
            ([E, VERSION, b"JOBS", P({"jobs": []})], "unknown_command",
             "JOBS on the client socket"),
            ([E, VERSION, b"STATUS", P({"id": 1})[:-1]], "bad_body", "truncated msgpack"),
            ([E, VERSION, b"STATUS", b"\xdd\xff\xff\xff\xff"], "bad_body", "array bomb"),
            ([E, VERSION, b"STATUS", b"\xdf\x7f\xff\xff\xff\x01"], "bad_body", "map bomb"),
            ([E, VERSION, b"STATUS", b"\x91" * 100 + b"\xc0"], "bad_body", "too deep"),
            ([E, VERSION, b"STATUS", P([1, 2])], "bad_body", "not a map"),
            ([E, VERSION, b"STATUS", P({"id": 1}) + b"\x00"], "bad_body", "trailing bytes"),
            ([E, VERSION, b"STATUS", b"\xc1"], "bad_body", "reserved byte"),
            ([E, VERSION, b"STATUS", P({"id": "1"})], "bad_body", "wrong type"),
            ([E, VERSION, b"STATUS", P({"id": 1, "idd": 2})], "bad_body", "unknown field"),
            ([E, VERSION, b"STATUS", P({})], "bad_body", "missing field"),
            ([E, VERSION, b"ENQUEUE", P({"type": "test.echo", "priority": 256})], "bad_body",
             "priority out of range"),
            ([E, VERSION, b"ENQUEUE", P({"type": "test.echo", "delay_ms": 5, "not_before": 5})],
             "bad_body", "delay_ms and not_before"),
            ([E, VERSION, b"ENQUEUE", P({"type": "Bad Type"})], "bad_body", "malformed type"),
            ([E, VERSION, b"ENQUEUE", P({"type": "test.echo", "after": [0]})], "bad_body",
             "after outside a batch"),
            ([E, VERSION, b"BATCH", P({"jobs": [{"type": "test.echo", "after": [0]}]})],
             "bad_body", "after not earlier"),
            ([E, VERSION, b"BATCH", P({"jobs": []})], "bad_body", "empty batch"),
            ([E, VERSION, b"ENQUEUE", P({"type": "test.echo", "body": "x" * 5000})], "too_big",
             "oversized body"),
            ([E, VERSION, b"ENQUEUE", P({"type": "no.such.type"})], "unknown_job_type",
             "unknown job type"),
            ([E, VERSION, b"BATCH", P({"jobs": [{"type": "test.echo"}, {"type": "nope"}]})],
             "unknown_job_type", "unknown type in a batch"),
            ([E, VERSION, b"ENQUEUE", P({"type": "test.echo", "parents": [987654]})],
             "not_found", "unknown parent"),
            ([E, VERSION, b"STATUS", P({"id": 987654})], "not_found", "unknown job"),
            ([E, VERSION, b"LIST", P({"state": "sleeping"})], "bad_body", "unknown state"),
            ([VERSION, b"PING", P([])], "bad_body", "no delimiter: answered without one"),
        ]
        for frames, code, what in cases:
            expect_error(c, frames, code, what)
        # the rid survives a bad body, so the client can match the error
        body = expect_error(c, [E, VERSION, b"STATUS", P({"rid": 77, "id": "x"})], "bad_body",
                            "rid kept")
        check(body.get("rid") == 77, "rid in the error %r" % body)
        # a batch refused whole: nothing of it was enqueued
        cmd, r = c.call("STATS", {}, "STATS")
        check(r["totals"]["enqueued"] == 0, "nothing enqueued by bad requests %r" % r)
        # state errors
        jid = c.enqueue("test.echo")["id"]
        c.call("CANCEL", {"id": jid}, "CANCEL")
        cmd, r = c.call("CANCEL", {"id": jid})
        check(cmd == "ERROR" and r["code"] == "invalid_state" and r["id"] == jid, "cancel %r" % r)
        cmd, r = c.call("RETRY", {"id": c.enqueue("test.echo")["id"]})
        check(cmd == "ERROR" and r["code"] == "invalid_state", "retry of queued %r" % r)

        # worker socket
        w = Worker(b)
        w.send("READY", {"types": ["nope"]})
        cmd, r = w.recv(3000)
        while cmd in ("HEARTBEAT", "JOB"):
            cmd, r = w.recv(3000)
        check(cmd == "ERROR" and r["code"] == "unknown_job_type", "READY unknown type %r" % r)
        w.sock.send_multipart([E, VERSION, b"ENQUEUE", P({"type": "test.echo"})])
        cmd, r = w.recv(3000)
        while cmd in ("HEARTBEAT", "JOB"):
            cmd, r = w.recv(3000)
        check(cmd == "ERROR" and r["code"] == "unknown_command", "client command on workers %r" % r)
        w.send("DONE", {"id": 424242})
        cmd, r = w.recv(3000)
        while cmd in ("HEARTBEAT", "JOB"):
            cmd, r = w.recv(3000)
        check(cmd == "ERROR" and r["code"] == "not_found" and r["id"] == 424242, "DONE unknown %r" % r)
        # FETCH (test_broker_fetch has the whole story): hostile bodies, refusals; only DONE may
        # be larger than max_body (4096 here), up to max_result
        fetch_cases = [
            (P({}), "bad_body"), (P({"id": "1"}), "bad_body"), (P({"id": -3}), "bad_body"),
            (P({"id": 0}), "bad_body"), (P({"id": 1, "x": 2}), "bad_body"),
            (P({"id": 2 ** 64 - 1}), "not_found"), (P([1]), "bad_body"), (b"\xc1", "bad_body"),
            (P({"id": 424242}), "not_found"), (P({"id": jid}), "invalid_state"),
            (P({"id": 1, "pad": "x" * 5000}), "too_big"),
        ]
        for raw, code in fetch_cases:
            w.sock.send_multipart([E, VERSION, b"FETCH", raw])
            cmd, r = w.recv(3000)
            while cmd in ("HEARTBEAT", "JOB"):
                cmd, r = w.recv(3000)
            check(cmd == "ERROR" and r["code"] == code, "FETCH %r: %s %r" % (raw[:40], cmd, r))
        w.send("DONE", {"id": 424243, "result": "x" * 5000})
        cmd, r = w.recv(3000)
        while cmd in ("HEARTBEAT", "JOB"):
            cmd, r = w.recv(3000)
        check(cmd == "ERROR" and r["code"] == "not_found", "a DONE above max_body is read %r" % r)
        # DONE {items} (several DONEs in one message), READY's batch, JOBS (broker -> worker only)
        batch_cases = [
            (b"DONE", P({}), "bad_body"), (b"DONE", P({"items": "x"}), "bad_body"),
            (b"DONE", P({"items": []}), "bad_body"), (b"DONE", P({"items": [1]}), "bad_body"),
            (b"DONE", P({"items": [{"id": 1, "x": 2}]}), "bad_body"),
            (b"DONE", P({"items": [{"result": 1}]}), "bad_body"),
            (b"DONE", P({"items": [{"id": 0}]}), "bad_body"),
            (b"DONE", P({"items": [{"id": -1}]}), "bad_body"),
            (b"DONE", P({"id": 1, "items": [{"id": 1}]}), "bad_body"),
            (b"DONE", P({"result": 1, "items": [{"id": 1}]}), "bad_body"),
            (b"DONE", P({"items": [{"id": 1}] * 1001}), "bad_body"),
            (b"DONE", P({"items": {"id": 1}}), "bad_body"),
            (b"DONE", P({"items": [{"id": 424244}, {"id": "x"}]}), "bad_body"),
            (b"DONE", P({"items": [{"id": 424245, "result": [1, {"a": None}]}]}), "not_found"),
            (b"DONE", P({"items": [{"id": jid}]}), "invalid_state"),
            (b"DONE", P({"items": [{"id": 1, "result": "x" * 5000}]})[:-3], "too_big"),
            (b"DONE", P({"items": [{"id": 1, "result": "x" * 200}]})[:-3], "bad_body"),
            (b"READY", P({"types": ["test.echo"], "batch": "x"}), "bad_body"),
            (b"READY", P({"types": ["test.echo"], "batch": 1001}), "bad_body"),
            (b"READY", P({"types": ["test.echo"], "batch": -2}), "bad_body"),
            (b"JOBS", P({"jobs": [{"id": 1}]}), "unknown_command"),
        ]
        for command, raw, code in batch_cases:
            w.sock.send_multipart([E, VERSION, command, raw])
            cmd, r = w.recv(3000)
            while cmd in ("HEARTBEAT", "JOB", "JOBS"):
                cmd, r = w.recv(3000)
            check(cmd == "ERROR" and r["code"] == code,
                  "%s %r: %s %r" % (command, raw[:40], cmd, r))
            if code in ("not_found", "invalid_state"):
                check(r.get("id") in (424245, jid), "the item's id in the error %r" % r)
        check(w.recv(300)[0] in (None, "HEARTBEAT"), "one ERROR per refused DONE {items}")
        cases_extra = len(batch_cases)
        w.close()
        stranger = Worker.__new__(Worker)
        import zmq
        stranger.sock = zmq.Context.instance().socket(zmq.DEALER)
        stranger.sock.connect(b.endpoint("workers"))
        stranger.send("DONE", {"id": 1})
        cmd, r = stranger.recv(3000)
        check(cmd == "DISCONNECT" and r.get("reason") == "not_ready", "unregistered %s %r" % (cmd, r))
        stranger.sock.send_multipart([b"MINGA01"])
        cmd, r = None, None
        frames = stranger.sock.recv_multipart() if stranger.sock.poll(3000) else None
        check(frames and frames[-2] == b"ERROR", "bad frames on workers socket: %r" % frames)
        stranger.close()

        # a frame over 4 x max_body is not read at all: that connection is closed (no reply)
        giant = Client(b)
        giant.send_raw([E, VERSION, b"ENQUEUE", b"x" * (64 << 10)])
        try:
            giant.recv_raw(1000)
            check(False, "a giant frame was answered")
        except TimeoutError:
            pass
        giant.close()

        # still serving
        cmd, r = c.call("PING", {}, "PING")
        check(b.alive(), "broker alive")
        time.sleep(0.1)
        check(b.stop() == 0, "clean stop")
        print("ok: %d malformed inputs answered" % (len(cases) + 6 + cases_extra))
    except BaseException:
        print(b.log_text(), file=sys.stderr)
        raise
    finally:
        b.cleanup()


if __name__ == "__main__":
    main()
