"""The `smtp` delivery kind: hand stored messages to an SMTP server.

TLS is `starttls` (port 587), `ssl` (implicit TLS, port 465) or `none` (only for a relay
on the same host); the server certificate is verified unless `verify_certificate = false`,
and `ca_file` adds CA certificates to trust. Credentials are sent only over TLS. The
payload is sent as it was stored, so its stable Message-ID lets a receiver recognise a
resend after an unknown outcome (a crash between the server's answer and our commit).
"""

from __future__ import annotations

import smtplib
from pathlib import Path

from bot.ingest.mailboxes.base import network_error, tls_context
from bot.outgoing.base import DeliveryError


class SmtpSender:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        tls: str,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        verify_certificate: bool = True,
        ca_file: Path | None = None,
        timeout: float = 30.0,
    ) -> None:
        if username and tls == "none":
            raise DeliveryError(f"SMTP {host}:{port}: aanmelden zonder TLS wordt geweigerd (zet tls)")
        self.where = f"SMTP {host}:{port}"
        self._host, self._port, self._tls, self._sender = host, port, tls, sender
        self._username, self._password = username, password
        self._verify, self._ca_file, self._timeout = verify_certificate, ca_file, timeout

    @classmethod
    def from_settings(cls, delivery) -> "SmtpSender":
        from bot.settings import secret

        password = secret(delivery.password_env, key="delivery.password_env") if delivery.username else None
        return cls(
            host=delivery.host, port=delivery.port, tls=delivery.tls, sender=delivery.from_,
            username=delivery.username, password=password, verify_certificate=delivery.verify_certificate,
            ca_file=delivery.ca_file, timeout=delivery.timeout_seconds,
        )

    def send(self, *, payload: bytes, recipient: str, message_id: str) -> None:
        with self._session() as smtp:
            try:
                refused = smtp.sendmail(self._sender, [recipient], payload)
            except smtplib.SMTPRecipientsRefused as exc:
                code = next(iter(exc.recipients.values()))[0]
                raise DeliveryError(f"{self.where}: ontvanger geweigerd (code {code})") from None
            except smtplib.SMTPSenderRefused as exc:
                raise DeliveryError(f"{self.where}: afzender {self._sender} geweigerd (code {exc.smtp_code})") from None
            except smtplib.SMTPDataError as exc:
                raise DeliveryError(f"{self.where}: bericht geweigerd (code {exc.smtp_code})") from None
            except (OSError, smtplib.SMTPException) as exc:
                raise DeliveryError(network_error(exc, self.where)) from None
            if refused:
                raise DeliveryError(f"{self.where}: ontvanger geweigerd")

    def check(self) -> str:
        with self._session() as smtp:
            code, _ = smtp.noop()
        if code != 250:
            raise DeliveryError(f"{self.where}: server antwoordt {code} op NOOP")
        login = "aangemeld" if self._username else "zonder aanmelden"
        return f"{self.where} ({self._tls}): verbonden, {login}"

    def _session(self) -> smtplib.SMTP:
        """A connected, secured and authenticated session (a context manager that QUITs)."""
        try:
            context = tls_context(verify=self._verify, ca_file=self._ca_file)
        except ValueError as exc:
            raise DeliveryError(str(exc)) from None
        smtp: smtplib.SMTP | None = None
        try:
            if self._tls == "ssl":
                smtp = smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout, context=context)
            else:
                smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
            smtp.ehlo()
            if self._tls == "starttls":
                if not smtp.has_extn("starttls"):
                    raise DeliveryError(f"{self.where}: server biedt geen STARTTLS aan")
                smtp.starttls(context=context)
                smtp.ehlo()
            if self._username:
                smtp.login(self._username, self._password or "")
            return smtp
        except DeliveryError:
            _quit(smtp)
            raise
        except smtplib.SMTPAuthenticationError:
            _quit(smtp)
            raise DeliveryError(f"{self.where}: aanmelden geweigerd (controleer username en password_env)") from None
        except smtplib.SMTPNotSupportedError:
            _quit(smtp)
            raise DeliveryError(f"{self.where}: server biedt geen aanmelding (AUTH) aan") from None
        except smtplib.SMTPResponseException as exc:
            _quit(smtp)
            raise DeliveryError(f"{self.where}: server antwoordt {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            _quit(smtp)
            raise DeliveryError(network_error(exc, self.where)) from None


def _quit(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
