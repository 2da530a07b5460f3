#include "server/reflection_guard.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "common/grpc_status.h"

namespace emar {
namespace {

using grpc::experimental::InterceptionHookPoints;

void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// A length-delimited field.
void AppendBytes(int field, absl::string_view bytes, std::string* out) {
  AppendVarint((static_cast<uint64_t>(field) << 3) | 2, out);
  AppendVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

// Any token the coordinator accepts, whatever its role.
absl::Status AuthorizeAnyRole(const Authenticator& auth,
                              std::optional<absl::string_view> authorization) {
  absl::Status s = auth.Authorize(authorization, Api::kClient).status();
  if (absl::IsPermissionDenied(s)) s = auth.Authorize(authorization, Api::kWorker).status();
  return s;
}

class ReflectionGuard : public grpc::experimental::Interceptor {
 public:
  explicit ReflectionGuard(const Authenticator* auth) : auth_(auth) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      std::optional<absl::string_view> authorization;
      for (const auto& [key, value] : *methods->GetRecvInitialMetadata()) {
        if (absl::string_view(key.data(), key.size()) == "authorization") {
          authorization = absl::string_view(value.data(), value.size());
        }
      }
      refused_ = AuthorizeAnyRole(*auth_, authorization);
    }
    if (!refused_.ok()) {
      if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_MESSAGE)) {
        if (grpc::ByteBuffer* buf = methods->GetSerializedSendMessage(); buf != nullptr) {
          const std::string error = ReflectionErrorResponse(refused_);
          grpc::Slice slice(error);
          *buf = grpc::ByteBuffer(&slice, 1);
        }
      }
      if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
        methods->ModifySendStatus(ToGrpcStatus(refused_));
      }
    }
    methods->Proceed();
  }

 private:
  const Authenticator* const auth_;
  absl::Status refused_;  // OK until the caller's metadata says otherwise
};

class ReflectionGuardFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ReflectionGuardFactory(const Authenticator* auth) : auth_(auth) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const char* method = info->method();
    if (method == nullptr || !absl::StartsWith(method, "/grpc.reflection.")) return nullptr;
    return new ReflectionGuard(auth_);
  }

 private:
  const Authenticator* const auth_;
};

}  // namespace

std::string ReflectionErrorResponse(const absl::Status& status) {
  std::string error;
  AppendVarint(1 << 3, &error);  // error_code, a varint
  AppendVarint(static_cast<uint64_t>(status.code()), &error);
  AppendBytes(2, status.message(), &error);  // error_message
  std::string response;
  AppendBytes(7, error, &response);  // ServerReflectionResponse.error_response
  return response;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeReflectionGuard(
    const Authenticator* auth) {
  return std::make_unique<ReflectionGuardFactory>(auth);
}

}  // namespace emar
