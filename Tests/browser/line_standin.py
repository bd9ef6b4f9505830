"""A small stand-in for the LINE Messaging API, answering as LINE does (see
Sources/PlatformStandIns/StandInPlatforms.swift): push and reply accept with `sentMessages`, a
repeated X-Line-Retry-Key is 409, profiles answer a display name, content answers a PNG. It records
every push so a test can wait for the bridge's send; `fail_next_push(message)` makes the next push (or
reply) answer 400 with that message, as LINE refuses a bad request (the bridge marks the reply failed
with it as the reason). It also answers the WhatsApp Cloud API's send (`POST /<version>/<phone
number id>/messages`) as Meta does, recording each in `whatsapp`."""

import itertools
import json
import threading

from standin_server import StandInHandler, StandInServer

PNG = bytes([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) + b"*" * 1024


class LineStandIn(StandInServer):
    def __init__(self):
        self.pushes = []
        self.whatsapp = []
        self._failures = []
        self.display_names = {}
        self._keys = {}
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        stand_in = self

        class Handler(StandInHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.startswith(("/v2/bot/message/push", "/v2/bot/message/reply")):
                    key = self.headers.get("X-Line-Retry-Key")
                    with stand_in._lock:
                        failure = stand_in._failures.pop(0) if stand_in._failures else None
                    if failure:
                        return self._json(400, {"message": failure})
                    with stand_in._lock:
                        if key and key in stand_in._keys:
                            return self._json(409, {"message": "The retry key is already accepted"},
                                              {"x-line-accepted-request-id": stand_in._keys[key]})
                        request_id = f"req-{next(stand_in._ids)}"
                        if key:
                            stand_in._keys[key] = request_id
                        stand_in.pushes.append({"path": self.path, "body": body})
                    return self._json(200, {"sentMessages": [{"id": str(next(stand_in._ids)), "quoteToken": "q"}]},
                                      {"x-line-request-id": request_id})
                if self.path.endswith("/messages") and self.path.count("/") == 3:
                    with stand_in._lock:
                        wamid = f"wamid.standin{next(stand_in._ids)}"
                        stand_in.whatsapp.append({"path": self.path, "body": body, "id": wamid})
                    return self._json(200, {"messaging_product": "whatsapp", "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                                            "messages": [{"id": wamid}]})
                self._json(404, {"message": "Not found"})

            def do_GET(self):
                if self.path.startswith("/v2/bot/profile/"):
                    user_id = self.path[len("/v2/bot/profile/"):]
                    name = stand_in.display_names.get(user_id, f"LINE user {user_id[-4:]}")
                    return self._json(200, {"displayName": name, "userId": user_id, "language": "en"})
                if self.path.endswith("/content/transcoding"):
                    return self._json(200, {"status": "succeeded"})
                if self.path.endswith("/content"):
                    return self.answer(200, PNG, "image/png")
                self._json(404, {"message": "Not found"})

        self.listen(Handler)

    def fail_next_push(self, message):
        with self._lock:
            self._failures.append(message)

    def whatsapp_templates(self):
        with self._lock:
            return [w["body"]["template"] for w in self.whatsapp if "template" in w["body"]]

    def whatsapp_sent(self, text):
        """The message id the stand-in gave the WhatsApp text `text`, once it was sent."""
        with self._lock:
            return next((w["id"] for w in self.whatsapp if w["body"].get("text", {}).get("body") == text), None)

    def pushed_texts(self):
        with self._lock:
            return [m.get("text") for p in self.pushes for m in p["body"].get("messages", [])]
