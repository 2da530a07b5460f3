"""Errors of the EMAR client: one class per gRPC status the coordinator answers with.

Every error is an `EmarError` with `.code` (a `grpc.StatusCode`) and `.message` (the server's
message, or for local problems, such as an unreadable input, a message naming the file), and
`.hint`: what to do about a connection or token problem, as emarctl says it (`str(error)` adds it
on a line of its own), or "". A job that
ends FAILED is `JobFailed` (its `.message` is the job's `error`), one that ends CANCELLED while
evaluate() waits for its report is `JobCancelled`. A failed gate is not an error: the report says
so (`gates_passed`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Optional, Tuple, Type

import grpc

from .hints import Connection, connection_hint

if TYPE_CHECKING:
    from .results import Job

__all__ = [
    "EmarError", "NotFound", "InvalidArgument", "AlreadyExists", "Unauthenticated",
    "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Unavailable",
    "DeadlineExceeded", "JobFailed", "JobCancelled", "error_from_rpc",
]


class EmarError(Exception):
    """A call to the coordinator (or a local step of it) failed."""

    default_code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, code: Optional[grpc.StatusCode] = None,
                 job_id: Optional[str] = None, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.job_id = job_id  # set when the error concerns one job (JobFailed, wait's deadline)
        self.hint = hint
        self.rpc_error: Optional[grpc.RpcError] = None

    def __str__(self) -> str:
        return f"{self.message}\nhint: {self.hint}" if self.hint else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.name}: {self.message!r})"


class NotFound(EmarError):
    default_code = grpc.StatusCode.NOT_FOUND


class InvalidArgument(EmarError):
    default_code = grpc.StatusCode.INVALID_ARGUMENT


class AlreadyExists(EmarError):
    """A request id reused with a different spec or inputs (the message names its job)."""

    default_code = grpc.StatusCode.ALREADY_EXISTS


class Unauthenticated(EmarError):
    default_code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(EmarError):
    default_code = grpc.StatusCode.PERMISSION_DENIED


class ResourceExhausted(EmarError):
    default_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class FailedPrecondition(EmarError):
    default_code = grpc.StatusCode.FAILED_PRECONDITION


class Unavailable(EmarError):
    default_code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(EmarError):
    """A call's deadline passed. From evaluate(timeout=T) or wait(timeout=T): `.timeout` is T and
    `.phase` the phase reached (hashing, uploading, creating, queued, scoring, bootstrap); the
    job, if created (`.job_id`), goes on."""

    default_code = grpc.StatusCode.DEADLINE_EXCEEDED

    def __init__(self, message: str, code: Optional[grpc.StatusCode] = None,
                 job_id: Optional[str] = None, hint: str = "", *,
                 timeout: Optional[float] = None, phase: str = ""):
        super().__init__(message, code, job_id, hint)
        self.timeout = timeout
        self.phase = phase


class JobFailed(EmarError):
    """The job ended FAILED. `.message` is the job's `error` (it names file, line and field),
    `.job` the final Job. `.code` is FAILED_PRECONDITION, as emarctl reports it."""

    default_code = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self, job: "Job"):
        super().__init__(job.error, job_id=job.job_id)
        self.job = job

    def __str__(self) -> str:
        return f"job {self.job_id} failed: {self.message}"


class JobCancelled(EmarError):
    """evaluate() waited for a job that was cancelled: there is no report. `.job` is the final
    job."""

    default_code = grpc.StatusCode.CANCELLED

    def __init__(self, job: "Job"):
        super().__init__(f"job {job.job_id} was cancelled", job_id=job.job_id)
        self.job = job


_CLASSES: Tuple[Type[EmarError], ...] = (
    NotFound, InvalidArgument, AlreadyExists, Unauthenticated, PermissionDenied, ResourceExhausted,
    FailedPrecondition, Unavailable, DeadlineExceeded)
_BY_CODE: Dict[Any, Type[EmarError]] = {cls.default_code: cls for cls in _CLASSES}


def error_from_rpc(error: Any, prefix: str = "",
                   connection: Optional[Connection] = None) -> EmarError:
    """The EmarError subclass for a failed gRPC call (sync or asyncio), with the server's message
    and, given the connection it was made on, emarctl's hint."""
    code: Any = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = (error.details() if hasattr(error, "details") else None) or ""
    hint = connection_hint(code.name, details, connection) if connection is not None else ""
    cls = _BY_CODE.get(code, EmarError)
    err = cls(f"{prefix}{details}", code=code, hint=hint)
    err.rpc_error = error
    return err
