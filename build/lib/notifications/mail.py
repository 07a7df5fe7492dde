"""Email backends: the log (development) and SMTP."""

import base64
import logging
import smtplib
import ssl
from email.message import EmailMessage

from notifications.sms import SendResult

log = logging.getLogger(__name__)


class LogMailBackend:
    name = "log"

    def send(self, recipient: str, subject: str, body: str, html: str | None = None,
             attachments: list | None = None) -> SendResult:
        log.info("E-mail (journal) vers %s : %s", recipient.split("@")[-1], subject)
        return SendResult()


class SmtpMailBackend:
    name = "smtp"

    def __init__(self, server: str, port: int, sender: str, use_tls: bool = False, use_ssl: bool = False,
                 username: str | None = None, password: str | None = None, timeout: float = 15):
        self.server, self.port, self.sender = server, port, sender
        self.use_tls, self.use_ssl = use_tls, use_ssl
        self.username, self.password, self.timeout = username, password, timeout

    def send(self, recipient: str, subject: str, body: str, html: str | None = None,
             attachments: list | None = None) -> SendResult:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, recipient, subject
        message.set_content(body)
        if html:
            message.add_alternative(html, subtype="html")
        for attachment in attachments or []:
            maintype, _, subtype = attachment["content_type"].partition("/")
            message.add_attachment(base64.b64decode(attachment["data"]), maintype=maintype, subtype=subtype,
                                   filename=attachment["filename"])
        try:
            connection_class = smtplib.SMTP_SSL if self.use_ssl else smtplib.SMTP
            with connection_class(self.server, self.port, timeout=self.timeout) as smtp:
                if self.use_tls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            return SendResult(error_code="recipient_refused", error=str(error)[:200])
        except (smtplib.SMTPException, OSError) as error:
            log.warning("Serveur SMTP injoignable : %s", type(error).__name__)
            return SendResult(transient=True, error=type(error).__name__)
        return SendResult()
