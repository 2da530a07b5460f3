// The absl <-> gRPC status bridge: codes carried over, long messages cut to a readable length.
#include "common/grpc_status.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace emar {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

TEST(GrpcStatusTest, CodeAndShortMessageCarryOver) {
  const grpc::Status g = ToGrpcStatus(absl::InvalidArgumentError("refs.jsonl:3: bad"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(g.error_message(), "refs.jsonl:3: bad");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  const absl::Status back = FromGrpcStatus(g);
  EXPECT_TRUE(absl::IsInvalidArgument(back));
  EXPECT_EQ(back.message(), "refs.jsonl:3: bad");
}

// A 1 MB message reached the client as "received initial metadata size exceeds limit".
TEST(GrpcStatusTest, LongMessagesAreCutAtACharacterBoundaryAndSaySo) {
  std::string long_message = "formula: ";
  while (long_message.size() < (1 << 20)) long_message += "é+";  // two-byte characters
  const grpc::Status g = ToGrpcStatus(absl::InvalidArgumentError(long_message));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_LE(g.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_THAT(g.error_message(), StartsWith("formula: é+"));
  EXPECT_THAT(g.error_message(), EndsWith("more bytes)"));
  const size_t cut = g.error_message().find("... (");
  ASSERT_NE(cut, std::string::npos);
  // No character split in half: the byte before the cut ends a character.
  const std::string kept = g.error_message().substr(0, cut);
  EXPECT_TRUE(kept.back() == '+' || static_cast<unsigned char>(kept.back()) == 0xA9) << kept.back();
}

// A status with a client message: the client gets that text only (the full one names server
// paths and goes to the server's stderr); code and truncation as for any status.
TEST(GrpcStatusTest, AClientMessageReplacesTheServersText) {
  const absl::Status s =
      WithClientMessage(absl::ResourceExhaustedError("/var/lib/emar/tmp/abc.1.2: write failed"),
                        "the coordinator's storage is full");
  EXPECT_EQ(ClientMessage(s), "the coordinator's storage is full");
  const grpc::Status g = ToGrpcStatus(s);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(g.error_message(), "the coordinator's storage is full");
  EXPECT_EQ(ClientMessage(absl::InternalError("x")), std::nullopt);
  EXPECT_EQ(ToGrpcStatus(absl::InternalError("/a/b: x")).error_message(), "/a/b: x");
}

}  // namespace
}  // namespace emar
