"""Minimal listener on supervisor's own childutils: the Python baseline of
bench_test.go. Run with Debian's /usr/bin/python3 (it imports the packaged
supervisor module)."""
import sys

from supervisor import childutils


def main():
    while True:
        childutils.listener.wait(sys.stdin, sys.stdout)
        childutils.listener.ok(sys.stdout)


if __name__ == "__main__":
    main()
