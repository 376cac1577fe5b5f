#!/usr/bin/python3
"""Waits until the main window of one process is shown or hidden, as X11 sees it (its map
state), which is what the single-instance test checks: a second launch must bring back the
window of the first. Used by tests/installed.rs under Xvfb. Needs Debian's python3-xlib.

    window_state.py PID shown|hidden [TIMEOUT_SECONDS]

A timeout of 0 checks once.
"""
import sys
import time

from Xlib import X, display


def windows(root):
    yield root
    for child in root.query_tree().children:
        yield from windows(child)


def main():
    pid, wanted = int(sys.argv[1]), sys.argv[2]
    timeout = float(sys.argv[3]) if len(sys.argv) > 3 else 15.0
    d = display.Display()
    net_wm_pid = d.intern_atom("_NET_WM_PID")
    wm_protocols = d.intern_atom("WM_PROTOCOLS")

    def shown():
        for window in windows(d.screen().root):
            prop = window.get_full_property(net_wm_pid, X.AnyPropertyType)
            # The app window takes part in WM_PROTOCOLS; GTK's helper windows of the same
            # process do not.
            if prop and prop.value[0] == pid and window.get_full_property(wm_protocols, X.AnyPropertyType):
                if window.get_attributes().map_state == X.IsViewable:
                    return True
        return False

    deadline = time.monotonic() + timeout
    while True:
        state = "shown" if shown() else "hidden"
        if state == wanted:
            return
        if time.monotonic() > deadline:
            sys.exit(f"the window of process {pid} is {state}, not {wanted}, after {timeout} s")
        time.sleep(0.1)


if __name__ == "__main__":
    main()
