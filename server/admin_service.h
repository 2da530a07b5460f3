// gRPC adapter for emar.v1.AdminService: operations only admins may call. Backup streams a
// consistent online snapshot (server/job_store_backup.h) of the job store and its blobs to the
// caller, so an operator backs up a remote coordinator into a directory of their own machine or
// volume (`emarctl admin backup DIR`) without access to the coordinator's disk.
#ifndef EMAR_SERVER_ADMIN_SERVICE_H_
#define EMAR_SERVER_ADMIN_SERVICE_H_

#include <atomic>
#include <string>

#include "emar/v1/service.grpc.pb.h"
#include "server/auth.h"
#include "server/blob_store.h"
#include "server/call_guard.h"
#include "server/job_store.h"

namespace emar {

class AdminServiceImpl final : public emar::v1::AdminService::CallbackService {
 public:
  // `store` and `blobs` must outlive the service; snapshots are staged in DATA_DIR/backup.tmp.
  // `auth` may be null (everyone is the anonymous admin).
  AdminServiceImpl(JobStore* store, const BlobStore* blobs, const std::string& data_dir,
                   const Authenticator* auth)
      : store_(store),
        blobs_(blobs),
        staging_dir_(data_dir + "/backup.tmp"),
        guard_(auth, Api::kClient, /*max_request_bytes=*/4096) {}

  grpc::ServerWriteReactor<emar::v1::BackupChunk>* Backup(
      grpc::CallbackServerContext* ctx, const emar::v1::BackupRequest* req) override;

 private:
  JobStore* const store_;
  const BlobStore* const blobs_;
  const std::string staging_dir_;
  const CallGuard guard_;
  std::atomic<bool> backup_running_{false};  // one at a time: they share the staging dir
};

}  // namespace emar

#endif  // EMAR_SERVER_ADMIN_SERVICE_H_
