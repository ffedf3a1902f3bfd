#!/usr/bin/env python3
"""An httpok-like event listener, for the benchmark beside healthprobe.

superlance's httpok probes one URL per listener process, inside the event
handler: on each TICK it GETs the URL (with a timeout) before it answers
supervisord, so supervisord waits for the probe. This does the same with
supervisor.childutils and urllib, and logs one JSON line per event on
stderr: the probe's and the whole event's duration in milliseconds.
"""
import json
import sys
import time
import urllib.request

from supervisor import childutils


def main():
    url, timeout = sys.argv[1], float(sys.argv[2])
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        start = time.monotonic()
        ok = False
        if headers["eventname"].startswith("TICK"):
            try:
                with urllib.request.urlopen(url, timeout=timeout) as r:
                    r.read()
                    ok = 200 <= r.status < 300
            except Exception:
                ok = False
        took = (time.monotonic() - start) * 1000
        childutils.listener.ok(sys.stdout)
        sys.stderr.write(json.dumps({"event": headers["eventname"], "ok": ok, "took_ms": took}) + "\n")
        sys.stderr.flush()


if __name__ == "__main__":
    main()
