#!/usr/bin/python3
"""Writes the hand-made golden inputs (*.stdin) in this directory.

Envelopes are built the way supervisord 4.2.5 builds them
(supervisor/process.py EventListenerPool._eventEnvelope): len is Python's
len() of the payload str, i.e. Unicode code points, and the envelope is
UTF-8 encoded. The Go supervisord dialect counts bytes instead
(ochinchina/supervisord events.go encodeEvent). This is an oracle
independent of the Go reader under test. Run it from anywhere:
    /usr/bin/python3 pkg/eventlistener/testdata/golden/make_stdin.py
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def envelope(serial, poolserial, name, payload, pool="golden", server="supervisor", bytelen=False):
    n = len(payload.encode("utf-8")) if bytelen else len(payload)
    return ("ver:3.0 server:%s serial:%d pool:%s poolserial:%d eventname:%s len:%d\n%s"
            % (server, serial, pool, poolserial, name, n, payload)).encode("utf-8")


def write(name, envelopes):
    with open(os.path.join(HERE, name + ".stdin"), "wb") as f:
        f.write(b"".join(envelopes))


# Every family real supervisord sends, with multi-byte text and colons in values.
write("families", [
    envelope(0, 0, "PROCESS_GROUP_ADDED", "groupname:strategies\n"),
    envelope(1, 1, "SUPERVISOR_STATE_CHANGE_RUNNING", ""),
    envelope(2, 2, "PROCESS_STATE_STARTING", "processname:engine groupname:strategies from_state:STOPPED tries:0"),
    envelope(3, 3, "PROCESS_STATE_RUNNING", "processname:engine groupname:strategies from_state:STARTING pid:4242"),
    envelope(4, 4, "PROCESS_STATE_BACKOFF", "processname:feed groupname:feed from_state:STARTING tries:2"),
    envelope(5, 5, "PROCESS_STATE_EXITED", "processname:engine groupname:strategies from_state:RUNNING expected:0 pid:4242"),
    envelope(6, 6, "PROCESS_STATE_FATAL", "processname:feed groupname:feed from_state:BACKOFF"),
    envelope(7, 7, "PROCESS_STATE_STOPPING", "processname:risk groupname:risk from_state:RUNNING pid:77"),
    envelope(8, 8, "PROCESS_STATE_STOPPED", "processname:risk groupname:risk from_state:STOPPING pid:77"),
    envelope(9, 9, "TICK_5", "when:1700000005"),
    envelope(10, 10, "TICK_60", "when:1700000040"),
    envelope(11, 11, "TICK_3600", "when:1699999200"),
    envelope(12, 12, "PROCESS_LOG_STDOUT",
             "processname:engine groupname:strategies pid:4242 channel:stdout\nfill 10@101.5 \u20ac naïve \u2713 日本 \U0001F600 key:value\n"),
    envelope(13, 13, "PROCESS_LOG_STDERR",
             "processname:engine groupname:strategies pid:4242 channel:stderr\nUndecodable: b'\\xff\\xfe ok\\n'"),
    envelope(14, 14, "PROCESS_COMMUNICATION_STDOUT",
             "processname:engine groupname:strategies pid:4242\nheartbeat: \u2713\nline two"),
    envelope(15, 15, "PROCESS_COMMUNICATION_STDERR", "processname:engine groupname:strategies pid:4242\n"),
    envelope(16, 16, "REMOTE_COMMUNICATION", "type:deploy:v1.2 \u2713\nrisk:on\n\U0001F680 go"),
    envelope(17, 17, "PROCESS_GROUP_REMOVED", "groupname:strategies\n"),
    envelope(18, 18, "SUPERVISOR_STATE_CHANGE_STOPPING", ""),
])

# The Go supervisord: len in bytes, Title-case states, empty groupname, no
# channel token in log events.
write("gosupervisord", [
    envelope(1, 1, "PROCESS_STATE_STARTING", "processname:engine groupname: from_state:Stopped tries:0", bytelen=True),
    envelope(2, 2, "PROCESS_STATE_RUNNING", "processname:engine groupname: from_state:Starting pid:4242", bytelen=True),
    envelope(3, 3, "PROCESS_LOG_STDOUT", "processname:engine groupname: pid:4242\nprix 101,5 \u20ac \u2713 \U0001F600\n", bytelen=True),
    envelope(4, 4, "PROCESS_STATE_EXITED", "processname:engine groupname: from_state:Running expected:0 pid:4242", bytelen=True),
    envelope(5, 5, "TICK_5", "when:1700000005", bytelen=True),
])

# Delivery tracking: a FAILed event re-sent (same serial), a poolserial gap
# (events 3 and 4 of the pool dropped), serial gaps that are NOT drops (other
# pools' events), a supervisord reload (poolserial back to 0, serial goes on)
# and a handler that keeps failing (FAIL 3 times, then acked).
write("delivery", [
    envelope(10, 1, "REMOTE_COMMUNICATION", "type:ok\nfirst"),
    envelope(14, 2, "REMOTE_COMMUNICATION", "type:fail-once\nsecond"),
    envelope(14, 2, "REMOTE_COMMUNICATION", "type:fail-once\nsecond"),
    envelope(20, 5, "PROCESS_STATE_EXITED", "processname:engine groupname:strategies from_state:RUNNING expected:0 pid:9"),
    envelope(21, 6, "REMOTE_COMMUNICATION", "type:fail\npoison"),
    envelope(21, 6, "REMOTE_COMMUNICATION", "type:fail\npoison"),
    envelope(21, 6, "REMOTE_COMMUNICATION", "type:fail\npoison"),
    envelope(21, 6, "REMOTE_COMMUNICATION", "type:fail\npoison"),
    envelope(30, 0, "REMOTE_COMMUNICATION", "type:ok\nafter reload"),
    envelope(31, 1, "REMOTE_COMMUNICATION", "type:ok\nlast"),
])

# Payloads that do not parse are logged and acknowledged, never handed over
# nor FAILed; unknown event names are passed through.
write("bad_payloads", [
    envelope(1, 1, "PROCESS_STATE_EXITED", "groupname:strategies from_state:RUNNING expected:0 pid:9"),
    envelope(2, 2, "PROCESS_STATE_RUNNING", "processname:engine groupname:strategies from_state:STARTING pid:notanumber"),
    envelope(3, 3, "TICK_5", "when:soon"),
    envelope(4, 4, "PROCESS_LOG_STDOUT", "processname:engine groupname:strategies pid:1 channel:stdout"),
    envelope(5, 5, "REMOTE_COMMUNICATION", "no type line"),
    envelope(6, 6, "PROCESS_STATE_EXITED", "processname:engine groupname:strategies from_state:RUNNING expected:2 pid:9"),
    envelope(7, 7, "SOME_FUTURE_EVENT", "alpha:1 beta:x:y\nbody \u2713"),
    envelope(8, 8, "ANOTHER_FUTURE_EVENT", "free text without tokens"),
    envelope(9, 9, "PROCESS_STATE_RUNNING", "processname:engine groupname:strategies from_state:STARTING pid:10"),
])

# A header that cannot be parsed desynchronises the stream: Run stops.
with open(os.path.join(HERE, "bad_header.stdin"), "wb") as f:
    f.write(envelope(1, 1, "TICK_5", "when:1700000005"))
    f.write(b"ver:3.0 server:supervisor serial:2 pool:golden poolserial:2 eventname:TICK_5 len:fifteen\nwhen:1700000010")
    f.write(envelope(3, 3, "TICK_5", "when:1700000015"))

# The stream ends in the middle of an event.
with open(os.path.join(HERE, "truncated.stdin"), "wb") as f:
    f.write(envelope(1, 1, "TICK_5", "when:1700000005"))
    f.write(envelope(2, 2, "PROCESS_LOG_STDOUT", "processname:a groupname:a pid:1 channel:stdout\n\u2713 cut here")[:-4])
