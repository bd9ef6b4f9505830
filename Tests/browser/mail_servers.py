"""The real mail servers of the e-mail tests, for the browser tests: a throwaway Dovecot
(scripts/dovecot.sh) holding the support mailbox, and the SMTP test server
(scripts/smtp_test_server.py, aiosmtpd) that the bridge's relay delivers to."""

import email
import email.policy
import imaplib
import json
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from conftest import ROOT


class Mailbox:
    """Dovecot with one user, `bridge`; `deliver` appends a mail as a mail server's delivery would."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="browser-dovecot-"))  # the script opens it to Dovecot's own users
        ports = subprocess.run([str(ROOT / "scripts/dovecot.sh"), "start", str(self.dir)], check=True, capture_output=True, text=True)
        self.imaps_port = int(ports.stdout.split()[1])
        self.password = (self.dir / "password").read_text().strip()
        self.ca_file = str(self.dir / "cert.pem")

    def deliver(self, raw: bytes):
        context = ssl.create_default_context(cafile=self.ca_file)
        with imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=context) as imap:
            imap.login("bridge", self.password)
            imap.append("INBOX", None, None, raw)

    def stop(self):
        subprocess.run([str(ROOT / "scripts/dovecot.sh"), "stop", str(self.dir)], check=False, capture_output=True)


class Relay:
    """The SMTP test server: STARTTLS and AUTH required, each accepted mail kept as <n>.eml."""

    user, password = "bridge", "smtp-test-password"

    def __init__(self):
        self.maildir = Path(tempfile.mkdtemp(prefix="browser-smtp-"))
        self.process = subprocess.Popen(
            [sys.executable, "-W", "ignore", str(ROOT / "scripts/smtp_test_server.py"), "--maildir", str(self.maildir),
             "--user", self.user, "--password", self.password],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.port = int(self.process.stdout.readline().split()[-1])
        self.ca_file = str(self.maildir / "cert.pem")

    def received(self):
        """[(envelope, parsed message)] in the order they arrived; the envelope has `from` and `to`."""
        numbers = sorted(int(p.stem) for p in self.maildir.glob("*.json"))
        return [(json.loads((self.maildir / f"{n}.json").read_text()),
                 email.message_from_bytes((self.maildir / f"{n}.eml").read_bytes(), policy=email.policy.default)) for n in numbers]

    def stop(self):
        self.process.stdin.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.maildir, ignore_errors=True)


def mail(message_id, subject, text, in_reply_to=None, references=()):
    """A customer's mail, dated now (a ticket's messages are in the order they arrive)."""
    headers = [
        "From: Ana Lima <ana@example.com>", "To: Shop Support <help@shop.example>", f"Subject: {subject}",
        "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()), f"Message-ID: <{message_id}>",
    ]
    if in_reply_to:
        headers += [f"In-Reply-To: {in_reply_to}", "References: " + " ".join([*references, in_reply_to])]
    headers += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=UTF-8"]
    return ("\r\n".join(headers) + "\r\n\r\n" + text.replace("\n", "\r\n") + "\r\n").encode()
