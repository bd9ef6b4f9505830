"""A small stand-in for the WhatsApp Cloud API (Meta's Graph API) of the account the template picker
is tested on (see Sources/PlatformStandIns/StandInPlatforms.swift for the Swift one):
`GET /<version>/<WABA id>/message_templates` lists `TEMPLATES` as Meta does (only the APPROVED ones
when asked with status=APPROVED) and `POST /<version>/<phone number id>/messages` accepts a send with a
`wamid`, recording each in `sent`. Both check the bearer token."""

import itertools
import json
import threading
import urllib.parse

from standin_server import StandInHandler, StandInServer

TEMPLATES = [
    {"name": "order_shipped", "language": "en_US", "status": "APPROVED", "category": "UTILITY", "id": "2001",
     "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} has shipped.", "example": {"body_text": [["Ana", "#1234"]]}},
                    {"type": "FOOTER", "text": "Reply STOP to opt out"}]},
    {"name": "pedido_enviado", "language": "pt_BR", "status": "APPROVED", "category": "UTILITY", "id": "2002",
     "components": [{"type": "BODY", "text": "Olá {{1}}, seu pedido foi enviado."}]},
    {"name": "draft_promo", "language": "en_US", "status": "PENDING", "category": "MARKETING", "id": "2003",
     "components": [{"type": "BODY", "text": "Not approved yet"}]},
]


class WhatsAppStandIn(StandInServer):
    def __init__(self, access_token, business_account_id):
        self.access_token = access_token
        self.business_account_id = business_account_id
        self.sent = []
        self.template_lists = 0
        self._ids = itertools.count(5000)
        self._lock = threading.Lock()
        stand_in = self

        class Handler(StandInHandler):
            def _authorized(self):
                if self.headers.get("Authorization") == f"Bearer {stand_in.access_token}":
                    return True
                self._json(401, {"error": {"message": "Invalid OAuth access token - Cannot parse access token", "type": "OAuthException", "code": 190}})
                return False

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                if url.path.endswith(f"/{stand_in.business_account_id}/message_templates"):
                    if not self._authorized():
                        return
                    query = urllib.parse.parse_qs(url.query)
                    wanted = query.get("status", [None])[0]
                    with stand_in._lock:
                        stand_in.template_lists += 1
                    data = [t for t in TEMPLATES if wanted is None or t["status"] == wanted]
                    return self._json(200, {"data": data, "paging": {"cursors": {"before": "QVFI", "after": "QVFJ"}}})
                self._json(404, {"error": {"message": "Unknown path", "type": "GraphMethodException", "code": 100}})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.endswith("/messages"):
                    if not self._authorized():
                        return
                    with stand_in._lock:
                        wamid = f"wamid.tpl{next(stand_in._ids)}"
                        stand_in.sent.append({"path": self.path, "body": body, "id": wamid})
                    return self._json(200, {"messaging_product": "whatsapp", "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                                            "messages": [{"id": wamid}]})
                self._json(404, {"error": {"message": "Unknown path", "type": "GraphMethodException", "code": 100}})

        self.listen(Handler)

    def templates_sent(self):
        """The `template` objects of the sends so far, in order."""
        with self._lock:
            return [s["body"]["template"] for s in self.sent if s["body"].get("type") == "template"]
