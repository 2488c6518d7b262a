"""Runs a command in a pseudo-terminal and hangs the terminal up on SIGUSR1, as closing a terminal
window does: the terminal goes away (every later write to it fails with EIO), then the command
gets SIGHUP. Prints what the terminal showed and how the command ended, as one JSON line.

Usage: python3 hangupPty.py <command> [args...]; prints `ready` once the command runs.
"""

import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading

master, slave = pty.openpty()
# A session of its own, as a terminal's shell has; stdout and stderr both on the terminal.
child = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, start_new_session=True)
os.close(slave)
shown = bytearray()
hung = threading.Event()


def read_terminal():
    # Polls, so that no read is still holding the terminal open when it is hung up.
    while not hung.is_set():
        ready, _, _ = select.select([master], [], [], 0.02)
        if not ready:
            continue
        try:
            data = os.read(master, 4096)
        except OSError:
            return
        if not data:
            return
        shown.extend(data)


reader = threading.Thread(target=read_terminal)
reader.start()


def hang_up(*_):
    hung.set()
    reader.join()
    os.close(master)
    child.send_signal(signal.SIGHUP)


signal.signal(signal.SIGUSR1, hang_up)
print("ready", flush=True)
code = child.wait()
hung.set()
reader.join()
print(json.dumps({"code": code, "terminal": shown.decode("utf8", "replace")}), flush=True)
