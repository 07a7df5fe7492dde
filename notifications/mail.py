"""Email backends: the log (development) and SMTP.

Exactly once by e-mail: SMTP cannot be asked afterwards whether it took a message, so a message left in
``sending`` by a dispatcher that died is sent again, with the same ``Message-ID`` (made from the outbox row):
mail servers and mail apps treat two copies with one Message-ID as one message.
"""

import base64
import hashlib
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, localtime

from notifications.sms import SendResult

log = logging.getLogger(__name__)


def message_id(key: str, sender: str) -> str:
    """The Message-ID of an outbox row (``key``: its id and dedupe key), the same at every try."""
    domain = sender.rpartition("@")[2].strip("> ") or "localhost"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


class LogMailBackend:
    name = "log"

    def send(self, recipient: str, subject: str, body: str, html: str | None = None,
             attachments: list | None = None, headers: dict | None = None, key: str | None = None) -> SendResult:
        log.info("E-mail (journal) vers %s : %s", recipient.split("@")[-1], subject)
        return SendResult()


def _permanent(code: int) -> bool:
    return 500 <= code < 600


class SmtpMailBackend:
    name = "smtp"

    def __init__(self, server: str, port: int, sender: str, use_tls: bool = False, use_ssl: bool = False,
                 username: str | None = None, password: str | None = None, timeout: float = 15):
        self.server, self.port, self.sender = server, port, sender
        self.use_tls, self.use_ssl = use_tls, use_ssl
        self.username, self.password, self.timeout = username, password, timeout

    def compose(self, recipient: str, subject: str, body: str, html: str | None = None,
                attachments: list | None = None, headers: dict | None = None,
                key: str | None = None) -> EmailMessage:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, recipient, subject
        message["Date"] = format_datetime(localtime())
        if key:
            message["Message-ID"] = message_id(key, self.sender)
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(body)
        if html:
            message.add_alternative(html, subtype="html")
        for attachment in attachments or []:
            maintype, _, subtype = attachment["content_type"].partition("/")
            message.add_attachment(base64.b64decode(attachment["data"]), maintype=maintype, subtype=subtype,
                                   filename=attachment["filename"], params=attachment.get("params") or {})
        return message

    def send(self, recipient: str, subject: str, body: str, html: str | None = None,
             attachments: list | None = None, headers: dict | None = None, key: str | None = None) -> SendResult:
        message = self.compose(recipient, subject, body, html, attachments, headers, key)
        try:
            connection_class = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
            with connection_class(self.server, self.port, timeout=self.timeout) as smtp:
                if self.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            if codes and all(_permanent(code) for code in codes):
                return SendResult(error_code="recipient_refused", error=str(error)[:200])
            return SendResult(transient=True, error_code="recipient_deferred", error=str(error)[:200])
        except smtplib.SMTPResponseException as error:
            # 5xx: the server will never take it (a mailbox that does not exist, refused for good); 4xx: later.
            if _permanent(error.smtp_code):
                return SendResult(error_code=f"smtp_{error.smtp_code}", error=str(error)[:200])
            return SendResult(transient=True, error_code=f"smtp_{error.smtp_code}", error=str(error)[:200])
        except (smtplib.SMTPException, OSError) as error:
            log.warning("Serveur SMTP injoignable : %s", type(error).__name__)
            return SendResult(transient=True, error=type(error).__name__)
        return SendResult()
