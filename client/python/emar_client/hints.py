"""One-line hints for errors, as emarctl prints them (common/client_channel.cc: ConnectionHint),
and snake_case suggestions for misspelled job-spec field names.

The connection hints match the messages of gRPC 1.51 with OpenSSL 3 or BoringSSL; anything they
do not recognise gets no hint.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Iterable, Optional

from google.protobuf import symbol_database

__all__ = ["Connection", "connection_hint", "field_name_hint"]


@dataclass(frozen=True)
class Connection:
    """What a failed call was made with: the hint depends on it."""

    address: str = ""
    has_token: bool = False
    uses_tls: bool = False
    has_client_cert: bool = False


def _contains_any(text: str, needles: Iterable[str]) -> bool:
    lower = text.lower()  # OpenSSL and BoringSSL spell the same reason differently
    return any(n.lower() in lower for n in needles)


def connection_hint(code_name: str, message: str, conn: Connection) -> str:
    """The hint for a call that failed with the status `code_name` (e.g. "UNAVAILABLE") and
    `message`, or "" when none applies. Worded for the Client's arguments."""
    if code_name == "UNAUTHENTICATED":
        return ("the coordinator did not accept the token (check token=, token_file= or "
                "$EMAR_TOKEN)" if conn.has_token
                else "no token: set $EMAR_TOKEN or pass token= or token_file=")
    if code_name == "PERMISSION_DENIED":
        return ("the token's role may not call this (client tokens for clients, worker tokens "
                "for emar-worker)")
    if code_name != "UNAVAILABLE":
        return ""
    if _contains_any(message, ("certificate verify failed", "CERTIFICATE_VERIFY_FAILED")):
        return ("certificate not trusted: pass tls_ca= (the CA that signed the coordinator's "
                "certificate)")
    if _contains_any(message, ("is not in peer certificate",)):
        return ("the coordinator's certificate does not name the address: connect by a name or "
                "IP address in its subjectAltName")
    if _contains_any(message, ("certificate required", "peer did not return a certificate")):
        return "the coordinator requires a client certificate: pass tls_cert= and tls_key="
    if conn.uses_tls and _contains_any(message, ("wrong version number", "packet length too long",
                                                 "http request", "record layer failure")):
        return ("the coordinator does not seem to serve TLS: leave out tls_ca=, tls_cert= and "
                "tls_key=")
    # The peer hung up while the connection was being set up: a TLS server drops a plaintext
    # client, and a mutual-TLS server a client whose certificate it does not accept.
    if _contains_any(message, ("failed to connect",)) and _contains_any(
            message, ("Socket closed", "Connection reset by peer", "Broken pipe", "end of file",
                      "unexpected eof")):
        if not conn.uses_tls:
            return "is the coordinator serving TLS? pass tls_ca= (a CA file or PEM bytes)"
        if not conn.has_client_cert:
            return "the coordinator requires a client certificate: pass tls_cert= and tls_key="
        return ("the coordinator closed the TLS connection: does it trust the CA that signed "
                "tls_cert=?")
    if _contains_any(message, ("failed to connect",)) and _contains_any(
            message, ("Connection refused", "No route to host", "DNS resolution failed",
                      "Name or service not known")):
        return (f"is a coordinator listening on {conn.address}? (Client(address=...), else "
                "$EMAR_SERVER, else 127.0.0.1:50051)")
    return ""


# protobuf's json_format: 'Message type "emar.v1.GateSpec" has no field named "min_emr" at
# "JobSpec.gates".\n Available Fields(except extensions): "[\'minEmar\', ...]"'
_NO_FIELD = re.compile(r'(?:Failed to parse \w+ field: )*Message type "([\w.]+)" has no field '
                       r'named "([^"]*)" at "([^"]*)"\.?\s*Available Fields\(except extensions\):'
                       r' "\[[^\]]*\]"\.*', re.S)


def field_name_hint(message: str) -> Optional[str]:
    """`message` (a job spec's parse error) with protobuf's camelCase field list replaced by the
    snake_case names job files use and the closest one suggested, or None when it is not an
    unknown-field error."""
    m = _NO_FIELD.search(message)
    if not m:
        return None
    type_name, unknown, where = m.groups()
    try:
        descriptor = symbol_database.Default().pool.FindMessageTypeByName(type_name)
    except KeyError:
        return None
    names = [f.name for f in descriptor.fields]
    path = where.split(".", 1)[1] if "." in where else ""
    close = difflib.get_close_matches(unknown.replace("-", "_"), names, n=1, cutoff=0.6)
    # "minEmar" is the proto JSON name of min_emar: accepted by the parser, but say so anyway.
    close = close or [f.name for f in descriptor.fields if f.json_name == unknown]
    text = f"{path + ': ' if path else ''}unknown field '{unknown}'"
    if close:
        text += f" (did you mean '{close[0]}'?)"
    text += f"; {type_name.rsplit('.', 1)[-1]} fields: {', '.join(names)}"
    return message[:m.start()] + text + message[m.end():]
