"""Minimal supervisord event listener, the benchmark's baseline: halt the
trading group when risk_manager goes FATAL, the way a childutils listener
from the supervisor documentation would. Run with Debian's /usr/bin/python3,
which imports the packaged supervisor."""
import os
import sys

from supervisor import childutils


def main():
    rpc = childutils.getRPCInterface(os.environ)
    while True:
        headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
        if headers["eventname"] == "PROCESS_STATE_FATAL":
            if childutils.get_headers(payload).get("processname") == "risk_manager":
                rpc.supervisor.stopProcessGroup("trading", False)
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
