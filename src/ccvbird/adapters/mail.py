"""E-mail over SMTP (stdlib ``smtplib``): STARTTLS, implicit TLS or a plain local relay."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage


class SmtpMailer:
    """Sends plain-text mail; one connection per message (notices are rare)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        security: str = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 30.0,
    ) -> None:
        if security not in ("starttls", "ssl", "none"):
            raise ValueError(f"smtp_security: {security!r} is not starttls, ssl or none")
        self.host, self.port, self.sender = host, port, sender
        self._security = security
        self._username = username
        self._password = password
        self._timeout = timeout

    def __repr__(self) -> str:  # the password stays out of logs
        return f"SmtpMailer({self.host}:{self.port}, security={self._security})"

    def send(self, to: list[str], subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message.set_content(body)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self._security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self._timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self._timeout)
        with smtp:
            if self._security == "starttls":
                smtp.starttls(context=context)
            if self._username:
                smtp.login(self._username, self._password)
            smtp.send_message(message)
