"""Errors of the EMAR client: one class per gRPC status the coordinator answers with.

Every error is an `EmarError` with `.code` (a `grpc.StatusCode`) and `.message` (the server's
message, or for local problems, such as an unreadable input, a message naming the file). A job that
ends FAILED is `JobFailed` (its `.message` is the job's `error`), one that ends CANCELLED while
evaluate() waits for its report is `JobCancelled`. A failed gate is not an error: the report says
so (`gates_passed`).
"""
from __future__ import annotations

from typing import Any, Dict, Optional

import grpc

__all__ = [
    "EmarError", "NotFound", "InvalidArgument", "AlreadyExists", "Unauthenticated", "PermissionDenied",
    "ResourceExhausted", "FailedPrecondition", "Unavailable", "DeadlineExceeded", "JobFailed",
    "JobCancelled", "error_from_rpc",
]


class EmarError(Exception):
    """A call to the coordinator (or a local step of it) failed."""

    default_code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __init__(self, message: str, code: Optional[grpc.StatusCode] = None,
                 job_id: Optional[str] = None):
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code
        self.job_id = job_id  # set when the error concerns one job (JobFailed, wait's deadline)

    def __str__(self) -> str:
        return self.message

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
    default_code = grpc.StatusCode.DEADLINE_EXCEEDED


class JobFailed(EmarError):
    """The job ended FAILED. `.message` is the job's `error` (it names file, line and field),
    `.job` the final job dict. `.code` is FAILED_PRECONDITION, as emarctl reports it."""

    default_code = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self, job: Dict[str, Any]):
        super().__init__(job.get("error", ""), job_id=job.get("job_id"))
        self.job = job

    def __str__(self) -> str:
        return f"job {self.job_id} failed: {self.message}"


class JobCancelled(EmarError):
    """evaluate() waited for a job that was cancelled: there is no report. `.job` is the final
    job."""

    default_code = grpc.StatusCode.CANCELLED

    def __init__(self, job: Dict[str, Any]):
        super().__init__(f"job {job.get('job_id')} was cancelled", job_id=job.get("job_id"))
        self.job = job


_BY_CODE = {cls.default_code: cls for cls in (
    NotFound, InvalidArgument, AlreadyExists, Unauthenticated, PermissionDenied, ResourceExhausted,
    FailedPrecondition, Unavailable, DeadlineExceeded)}


def error_from_rpc(error: grpc.RpcError, prefix: str = "") -> EmarError:
    """The EmarError subclass for a failed gRPC call, with the server's message."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = (error.details() if hasattr(error, "details") else None) or ""
    cls = _BY_CODE.get(code, EmarError)
    err = cls(prefix + details, code=code)
    err.rpc_error = error
    return err
