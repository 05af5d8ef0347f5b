"""A Flask-style Socket.IO client, as the seed's Python users write one
(python-socketio, no auth, only the seed's events): connects to URL, prints
each `count_update` and `send_notification` as one JSON line, and exits
after COUNT notifications. Usage: seed_client.py URL COUNT"""
import json
import sys
import threading

import socketio

url, want = sys.argv[1], int(sys.argv[2])
sio = socketio.Client(reconnection=False)
seen = []


# python-socketio runs handlers on threads of their own: print() writes the
# text and the newline separately, so two events could share a line.
out = threading.Lock()


def emit_line(event, data):
    line = json.dumps({"event": event, "data": data}, ensure_ascii=False) + "\n"
    with out:
        sys.stdout.write(line)
        sys.stdout.flush()


@sio.on("count_update")
def on_count(data):
    emit_line("count_update", data)


@sio.on("send_notification")
def on_notification(data):
    emit_line("send_notification", data)
    seen.append(data)
    if len(seen) >= want:
        sio.disconnect()


sio.connect(url, transports=["websocket"], wait_timeout=10)
sio.wait()
