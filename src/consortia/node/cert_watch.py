"""The node's certificates over time: days to expiry in ``/metrics``, a warning in the log and
in ``/v1/status`` ahead of expiry, and a renewed TLS certificate taken up without a restart.

``consortia node rotate-tls`` writes a new certificate for the node's own TLS key (so its pin
in every peer's configuration still holds); :class:`CertificateWatch` sees the file change and
has the transport load it for every handshake from then on, while the links already up carry
on. Pure parts (:func:`expiry_report`) apart from the loop (:meth:`CertificateWatch.run`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from prometheus_client import CollectorRegistry, Gauge

from consortia.p2p.tls import TlsFiles

log = logging.getLogger("consortia.certs")

WARN_DAYS = 30
"""A certificate this close to expiry is reported in the log and in the node's status."""
CHECK_INTERVAL_S = 2.0
LOG_EVERY_S = 3600.0
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class CertExpiry:
    kind: str
    """``tls`` (the node's own certificate) or ``ca`` (an organisation CA it trusts)."""
    subject: str
    not_after: datetime.datetime
    days_left: float

    def warning(self) -> str:
        when = self.not_after.strftime("%Y-%m-%d %H:%M UTC")
        if self.days_left <= 0:
            return f"the {self.kind} certificate {self.subject} EXPIRED on {when}"
        return f"the {self.kind} certificate {self.subject} expires in {self.days_left:.1f} days ({when})"


def _subject(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def expiry_report(files: TlsFiles, now: datetime.datetime) -> list[CertExpiry]:
    """Days to expiry of the node's TLS certificate and of every CA of its bundle."""
    out: list[CertExpiry] = []
    certs = [("tls", c) for c in x509.load_pem_x509_certificates(files.cert.read_bytes())[:1]]
    certs += [("ca", c) for c in x509.load_pem_x509_certificates(files.ca_bundle.read_bytes())]
    for kind, cert in certs:
        left = (cert.not_valid_after_utc - now).total_seconds() / SECONDS_PER_DAY
        out.append(CertExpiry(kind, _subject(cert), cert.not_valid_after_utc, left))
    return out


class CertificateWatch:
    def __init__(
        self,
        files: TlsFiles,
        registry: CollectorRegistry,
        warnings: list[str],
        reload: Callable[[], None] | None = None,
        warn_days: float = WARN_DAYS,
    ) -> None:
        """``warnings`` is the node's list shown in its status (kept up to date in place);
        ``reload`` makes the transport take up a changed TLS certificate."""
        self.files = files
        self.warnings = warnings
        self.reload = reload
        self.warn_days = warn_days
        self.days = Gauge("consortia_certificate_expiry_days",
                          "Days until a certificate expires (negative: expired)",
                          ["kind", "subject"], registry=registry)
        self._mtime = self._cert_mtime()
        self._logged_at: dict[str, float] = {}
        self.reloads = 0

    def _cert_mtime(self) -> int:
        try:
            return self.files.cert.stat().st_mtime_ns
        except OSError:
            return 0

    def check(self, now: datetime.datetime, monotonic: float) -> None:
        """Update the gauges and warnings; reload the TLS certificate if it changed."""
        mtime = self._cert_mtime()
        if mtime != self._mtime:
            self._mtime = mtime
            if self.reload is not None:
                try:
                    self.reload()
                except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
                    log.error("cannot load the renewed TLS certificate %s: %s", self.files.cert, exc)
                else:
                    self.reloads += 1
                    log.info("loaded the renewed TLS certificate %s for new connections", self.files.cert)
        try:
            report = expiry_report(self.files, now)
        except (OSError, ValueError) as exc:
            self.warnings[:] = [f"cannot read the node's certificates: {exc}"]
            return
        self.days.clear()
        current: list[str] = []
        for item in report:
            self.days.labels(item.kind, item.subject).set(round(item.days_left, 3))
            if item.days_left < self.warn_days:
                text = item.warning()
                current.append(text)
                key = f"{item.kind}:{item.subject}"
                last = self._logged_at.get(key)
                if last is None or monotonic - last >= LOG_EVERY_S:
                    log.warning("%s: renew it (`consortia node rotate-tls`, or the CA by governance)", text)
                    self._logged_at[key] = monotonic
        self.warnings[:] = current

    async def run(self, stop: asyncio.Event, clock: Callable[[], float]) -> None:
        while not stop.is_set():
            self.check(datetime.datetime.now(datetime.UTC), clock())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=CHECK_INTERVAL_S)
