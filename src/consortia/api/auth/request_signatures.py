"""Signing and verifying API requests (RFC 9421 HTTP Message Signatures) with a chain key.

The client signs ``@method``, ``@authority``, ``@path``, ``@query`` and — when there is a body —
its ``content-digest`` (SHA-256), with ``created``, a random ``nonce``, the key id
``<suite>:<public key hex>`` and the tag ``consortia:<chain id>`` (a signature made for one chain
is refused by another). The signature is the chain suite's own (Ed25519 or SM2 with SM3), so any
key that signs transactions signs requests: nothing else to enrol or rotate.

The node verifies with :func:`verify_request`: the signature, its coverage, its age
(``MAX_AGE_S``, ``MAX_SKEW_S`` into the future) and the body digest. Replay and who the key
belongs to are the caller's (:mod:`.replay`, :mod:`.principal`). The library
(``http-message-signatures``) builds and parses the signature base and structured fields; this
module adds our suites as its algorithms and the coverage policy.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
)
from http_message_signatures.algorithms import HTTPSignatureAlgorithm
from http_message_signatures.exceptions import HTTPMessageSignaturesException

from consortia.api.auth.errors import BadRequestSignature, StaleRequest, Unauthenticated
from consortia.crypto.address import address_from_public_key
from consortia.crypto.keys import KeyPair
from consortia.crypto.suites import SUITES, get_suite
from consortia.errors import ConsortiaError

MAX_AGE_S = 60
"""A signed request is accepted for this long after it was made (and its nonce remembered)."""
MAX_SKEW_S = 5
"""How far a client's clock may run ahead of the node's."""
LABEL = "consortia"
COVERED = ("@method", "@authority", "@path", "@query")
COVERED_WITH_BODY = (*COVERED, "content-digest")
SIGNATURE_HEADERS = ("signature", "signature-input")
MAX_KEY_ID = 300


def tag_for(chain_id: str) -> str:
    return f"consortia:{chain_id}"


def key_id(key: KeyPair) -> str:
    return f"{key.suite_name}:{key.public_key.hex()}"


def _algorithm(suite_name: str) -> type[HTTPSignatureAlgorithm]:
    suite = get_suite(suite_name)

    class SuiteAlgorithm(HTTPSignatureAlgorithm):
        algorithm_id = f"consortia-{suite_name}"

        def __init__(self, public_key: Any = None, private_key: Any = None) -> None:
            self.public_key, self.private_key = public_key, private_key

        def sign(self, message: bytes) -> bytes:
            return suite.sign(self.private_key, message)

        def verify(self, signature: bytes, message: bytes) -> None:
            if not suite.verify(self.public_key, message, signature):
                raise InvalidSignature("the request signature does not verify")

    return SuiteAlgorithm


_ALGORITHMS = {name: _algorithm(name) for name in SUITES}


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(self, private_key: bytes | None = None, public_key: bytes | None = None) -> None:
        self._private, self._public = private_key, public_key

    def resolve_private_key(self, key_id: str) -> bytes:
        assert self._private is not None
        return self._private

    def resolve_public_key(self, key_id: str) -> bytes:
        assert self._public is not None
        return self._public


@dataclass(frozen=True)
class SignedBy:
    """What a verified request says about its signer."""

    suite_name: str
    public_key: bytes
    address: bytes
    nonce: str
    created: int


def sign_request(message: Any, key: KeyPair, chain_id: str, body: bytes | None,
                 now: datetime.datetime | None = None) -> None:  # fmt: skip
    """Sign ``message`` in place (anything with ``method``, ``url`` and writable ``headers``,
    e.g. an ``httpx.Request``); ``body``: the request content (None or b"" for none)."""
    signer = HTTPMessageSigner(signature_algorithm=_ALGORITHMS[key.suite_name],
                               key_resolver=_OneKey(private_key=key.private_key))  # fmt: skip
    signer.sign(
        message, key_id=key_id(key), label=LABEL, tag=tag_for(chain_id), nonce=secrets.token_hex(16),
        created=now or datetime.datetime.now(datetime.UTC),
        covered_component_ids=COVERED_WITH_BODY if body else COVERED, body=body or None,
    )  # fmt: skip


def is_signed(headers: Mapping[str, str]) -> bool:
    return any(h in headers for h in SIGNATURE_HEADERS)


def parse_key_id(value: str, chain_suite: str) -> tuple[str, bytes]:
    """``<suite>:<public key hex>`` of the chain's suite: (suite name, public key)."""
    if not isinstance(value, str) or len(value) > MAX_KEY_ID or value.count(":") != 1:
        raise BadRequestSignature("the signature's keyid must be '<suite>:<public key hex>'")
    suite_name, hexed = value.split(":")
    if suite_name != chain_suite:
        raise BadRequestSignature(
            f"this chain signs with {chain_suite}, the request with {suite_name[:20]!r}")
    try:
        public_key = bytes.fromhex(hexed)
        get_suite(suite_name).check_public_key(public_key)
    except (ValueError, ConsortiaError):
        raise BadRequestSignature("the signature's keyid holds no valid public key") from None
    return suite_name, public_key


def verify_request(message: Any, body: bytes, chain_id: str, chain_suite: str,
                   now: datetime.datetime | None = None) -> SignedBy:  # fmt: skip
    """Check the request's signature; who signed it (not yet whether that identity exists)."""
    headers = message.headers
    if not is_signed(headers):
        raise Unauthenticated("this route needs a request signed by an enrolled identity "
                              "(the CLI signs with --key FILE or the key file CONSORTIA_KEY names; the SDK "
                              "with Client(url, key=...) or the wallet's key)")  # fmt: skip
    params = _signature_params(headers)
    suite_name, public_key = parse_key_id(params.get("keyid", ""), chain_suite)
    tag = params.get("tag")
    if tag != tag_for(chain_id):
        raise BadRequestSignature(f"the request was signed for {str(tag)[:80]!r}; this node serves "
                                  f"{tag_for(chain_id)!r}")  # fmt: skip
    created = params.get("created")
    nonce = params.get("nonce")
    if not isinstance(created, int) or not isinstance(nonce, str) or not 8 <= len(nonce) <= 128:
        raise BadRequestSignature("the signature must carry 'created' and a 'nonce' of 8 to 128 characters")
    moment = now or datetime.datetime.now(datetime.UTC)
    age = moment.timestamp() - created
    if age > MAX_AGE_S or age < -MAX_SKEW_S:
        raise StaleRequest(f"the request was signed {int(age)} s from now; signatures are accepted for "
                           f"{MAX_AGE_S} s (check the client's clock)")  # fmt: skip
    verifier = _Verifier(signature_algorithm=_ALGORITHMS[suite_name],
                         key_resolver=_OneKey(public_key=public_key))  # fmt: skip
    try:
        verifier.verify(message, max_age=None, expect_tag=tag_for(chain_id), expect_label=LABEL,
                        require_components=COVERED_WITH_BODY if body else COVERED,
                        body=body)  # fmt: skip
    except (HTTPMessageSignaturesException, ValueError) as exc:
        raise BadRequestSignature(f"the request signature is not valid here: {str(exc)[:200]}") from None
    return SignedBy(suite_name, public_key, address_from_public_key(get_suite(suite_name), public_key),
                    nonce, created)  # fmt: skip


class _Verifier(HTTPMessageVerifier):
    """Our own age check runs first (typed errors); the library checks only the signature."""

    require_created = True
    max_clock_skew = datetime.timedelta(seconds=MAX_SKEW_S)


def _signature_params(headers: Mapping[str, str]) -> dict[str, Any]:
    """The parameters of our label's Signature-Input (keyid, created, nonce, ...)."""
    raw = headers.get("signature-input")
    if not raw:
        raise BadRequestSignature("a signed request needs both Signature and Signature-Input")
    try:
        parsed = HTTPMessageVerifier._parse_signature_dictionary(raw)
    except Exception:
        raise BadRequestSignature("the Signature-Input header is not a structured dictionary") from None
    entry = parsed.get(LABEL)
    if entry is None:
        raise BadRequestSignature(f"the Signature-Input has no {LABEL!r} signature")
    return dict(getattr(entry, "params", {}))

