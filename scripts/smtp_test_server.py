"""A real SMTP server for the e-mail tests (aiosmtpd): STARTTLS required before AUTH, AUTH
required before mail, every accepted message written to --maildir as <n>.eml with a
<n>.json envelope (mail from, recipients, the authenticated user, whether TLS was on).
The certificate is self-signed for 127.0.0.1 and written to <maildir>/cert.pem for the
client to trust. Prints "port <n>" once it listens; runs until stdin closes (the test
process that started it ended)."""
import argparse, json, os, socket, ssl, subprocess, sys, threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--reject", default="", help="comma-separated recipients answered 550")
    args = parser.parse_args()
    os.makedirs(args.maildir, exist_ok=True)
    cert, key = os.path.join(args.maildir, "cert.pem"), os.path.join(args.maildir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    rejected = set(filter(None, args.reject.split(",")))
    count = [0]
    lock = threading.Lock()

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if address in rejected:
                return "550 5.1.1 mailbox unavailable"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            with lock:
                count[0] += 1
                n = count[0]
            base = os.path.join(args.maildir, str(n))
            with open(base + ".eml", "wb") as f:
                f.write(envelope.original_content)
            with open(base + ".json.tmp", "w") as f:
                json.dump({"from": envelope.mail_from, "to": envelope.rcpt_tos,
                           "user": session.auth_data.login.decode() if session.auth_data else None,
                           "tls": session.ssl is not None}, f)
            os.rename(base + ".json.tmp", base + ".json")
            return "250 Message accepted"

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == args.user
              and auth_data.password.decode() == args.password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            auth_required=True, auth_require_tls=True, authenticator=authenticator)
    controller.start()
    print(f"port {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
