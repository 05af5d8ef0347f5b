"""A Flask-style client of the shared text, as the seed's Python users write
one (python-socketio, no auth, only the seed's events): connects to URL,
prints every `text_update` as one JSON line ({"text": ...}), and sends each
line read from stdin (a JSON string) as `text_update_request {text}`, the
whole text, as the seed's page does. Exits when stdin closes.
Usage: seed_text.py URL"""
import json
import sys
import threading

import socketio

url = sys.argv[1]
sio = socketio.Client(reconnection=False)


# Handlers may run on threads of their own, and print() writes the text and
# the newline separately: one write per line, one at a time.
out = threading.Lock()


@sio.on("text_update")
def on_text(data):
    line = json.dumps({"text": data.get("text")}, ensure_ascii=False) + "\n"
    with out:
        sys.stdout.write(line)
        sys.stdout.flush()


sio.connect(url, transports=["websocket"], wait_timeout=10)
for line in sys.stdin:
    line = line.strip()
    if line:
        sio.emit("text_update_request", {"text": json.loads(line)})
sio.disconnect()
