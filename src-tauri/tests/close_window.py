#!/usr/bin/python3
"""Asks the windows of one process to close the way a window manager's close button does
(a WM_DELETE_WINDOW client message), which WebDriver cannot do. Used by tests/window.rs under
Xvfb, where there is no window manager. Needs Debian's python3-xlib.

    close_window.py PID
"""
import sys
import time

from Xlib import X, display, protocol


def windows(root):
    yield root
    for child in root.query_tree().children:
        yield from windows(child)


def main():
    pid = int(sys.argv[1])
    d = display.Display()
    net_wm_pid = d.intern_atom("_NET_WM_PID")
    wm_protocols = d.intern_atom("WM_PROTOCOLS")
    wm_delete = d.intern_atom("WM_DELETE_WINDOW")

    def belongs(window):
        prop = window.get_full_property(net_wm_pid, X.AnyPropertyType)
        protocols = window.get_full_property(wm_protocols, X.AnyPropertyType)
        return (
            prop
            and prop.value[0] == pid
            and protocols
            and wm_delete in protocols.value
            # GTK's client leader window carries the same properties but is never mapped, and
            # ignores the message: only the visible window stands for "the window".
            and window.get_attributes().map_state == X.IsViewable
        )

    # The window maps shortly after the process starts.
    for _ in range(100):
        targets = [w for w in windows(d.screen().root) if belongs(w)]
        if targets:
            break
        time.sleep(0.1)
    else:
        sys.exit(f"no window of process {pid} accepts WM_DELETE_WINDOW")
    for window in targets:
        message = protocol.event.ClientMessage(
            window=window, client_type=wm_protocols, data=(32, [wm_delete, X.CurrentTime, 0, 0, 0])
        )
        window.send_event(message, event_mask=X.NoEventMask)
    # A round trip, not just a flush: the server has then handled the send before we leave.
    d.sync()


if __name__ == "__main__":
    main()
