"""What every platform stand-in of the browser tests shares: a threaded HTTP server on a free
loopback port that starts and stops with the test, and a quiet handler that answers JSON."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandInHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, data, content_type, headers=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status, body, headers=None):
        self.answer(status, json.dumps(body).encode(), "application/json", headers)


class StandInServer:
    """Subclasses build their handler class (a StandInHandler) and call `listen(handler)`."""

    def listen(self, handler):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
