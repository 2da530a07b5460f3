"""Python client of the EMAR evaluation service (emar-coordinator's emar.v1.EvaluationService).

    import emar_client
    client = emar_client.Client()            # $EMAR_SERVER or 127.0.0.1:50051, token $EMAR_TOKEN
    report = client.evaluate("examples/restaurant-sentiment/job.yaml", timeout=600)
    print(report.candidates[0].emar.value, report.gates_passed, report.flat())

`emar_client.aio.Client` is the same on asyncio. See docs/python.md in the repository. The gRPC
stubs (emar_client._proto) are generated from proto/emar/v1 by the build (build/python) or by
`pip install client/python`.
"""
from .client import (CHUNK_BYTES, DEFAULT_ADDRESS, TERMINAL_STATES, Client, failed_gates,
                     gates_passed)
from .errors import (AlreadyExists, DeadlineExceeded, EmarError, FailedPrecondition,
                     InvalidArgument, JobCancelled, JobFailed, NotFound, PermissionDenied,
                     ResourceExhausted, Unauthenticated, Unavailable)
from .inputs import canonical_jsonl
from .job_file import JobInput, hash_file, job_from_dict, load_job_file
from .results import (Bootstrap, CandidateResult, DatasetResult, Estimate, Formula, Gate,
                      InputFile, Job, Pairwise, Progress, Provenance, Report, SmallSample,
                      message_to_dict)
from .suite import dataset_result, dataset_results

to_dict = message_to_dict  # the 0.1 name

__version__ = "0.2.0"

__all__ = [
    "Client", "EmarError", "NotFound", "InvalidArgument", "AlreadyExists", "Unauthenticated",
    "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Unavailable",
    "DeadlineExceeded", "JobFailed", "JobCancelled", "gates_passed", "failed_gates",
    "load_job_file", "job_from_dict", "JobInput", "DEFAULT_ADDRESS", "CHUNK_BYTES",
    "TERMINAL_STATES", "__version__", "Report", "CandidateResult", "DatasetResult", "Estimate",
    "Gate", "Job", "Progress", "Pairwise", "Formula", "InputFile", "Provenance", "Bootstrap",
    "message_to_dict", "to_dict", "canonical_jsonl", "dataset_results", "dataset_result",
    "SmallSample", "hash_file",
]
