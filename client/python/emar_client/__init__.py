"""Python client of the EMAR evaluation service (emar-coordinator's emar.v1.EvaluationService).

    import emar_client
    client = emar_client.Client()            # $EMAR_SERVER or 127.0.0.1:50051, token $EMAR_TOKEN
    report = client.evaluate("examples/restaurant-sentiment/job.yaml")
    print(report["candidates"][0]["emar"]["value"], report["gates_passed"])

See client/python/README.md. The gRPC stubs (emar.v1.*_pb2) are generated from proto/emar/v1 by
the build (build/python) or by `pip install client/python`.
"""
from .client import (CHUNK_BYTES, DEFAULT_ADDRESS, TERMINAL_STATES, Client, failed_gates,
                     gates_passed, to_dict)
from .errors import (AlreadyExists, DeadlineExceeded, EmarError, FailedPrecondition, InvalidArgument,
                     JobCancelled, JobFailed, NotFound, PermissionDenied, ResourceExhausted,
                     Unauthenticated, Unavailable)
from .job_file import JobInput, job_from_dict, load_job_file

__version__ = "0.1.0"

__all__ = [
    "Client", "EmarError", "NotFound", "InvalidArgument", "AlreadyExists", "Unauthenticated", "PermissionDenied",
    "ResourceExhausted", "FailedPrecondition", "Unavailable", "DeadlineExceeded", "JobFailed",
    "JobCancelled", "gates_passed", "failed_gates", "to_dict", "load_job_file", "job_from_dict",
    "JobInput", "DEFAULT_ADDRESS", "CHUNK_BYTES", "TERMINAL_STATES", "__version__",
]
