// Keys derived from content alone, for recognising work already done:
//   ScoreCacheKey      a shard's results depend only on the bytes it reads, the metric and the
//                      field names, so two shards with equal keys have equal results (the score
//                      cache reuses them across jobs: a run's base model is scored once);
//   RequestFingerprint what a CreateJob asks for, so a reused request id with a different spec
//                      or different inputs is told apart from a retry.
#ifndef EMAR_SERVER_CONTENT_KEYS_H_
#define EMAR_SERVER_CONTENT_KEYS_H_

#include <string>

#include "emar/v1/service.pb.h"

namespace emar {

// sha256 (hex) over the scorer's version, the metric, the field names, and the sha256, byte
// range and first line of the outputs and the references the shard reads. Never empty.
// With a non-empty `principal`, the key is that principal's alone: entries are shared only
// between jobs of one principal (emar-coordinator --share-score-cache passes "" for all).
std::string ScoreCacheKey(const emar::v1::ShardTask& task, const std::string& principal = "");

// sha256 (hex) over the spec and the input digests (deterministically serialized), without the
// request id itself.
std::string RequestFingerprint(const emar::v1::CreateJobRequest& request);

}  // namespace emar

#endif  // EMAR_SERVER_CONTENT_KEYS_H_
