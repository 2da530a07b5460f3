// Keeps a gRPC server reachable after the process runs out of file descriptors.
//
// gRPC 1.51's TCP listener (src/core/lib/iomgr/tcp_server_posix.cc, on_read) handles an accept4
// error other than EINTR and EAGAIN by logging "Failed accept4" and leaving its read
// notification un-armed: after one EMFILE the listening socket is never polled again, and the
// server, alive and holding few descriptors once the flood is gone, accepts nothing until it is
// restarted. (Later gRPC versions retry EMFILE on a timer; this one has no setting for it.)
//
// The remedy is the classic reserve descriptor. InstallAcceptReserve() opens one (/dev/null),
// and this library defines accept4, to which the dynamic linker binds gRPC's calls (the
// executable's definition precedes libc's). When the real accept4 fails with EMFILE or ENFILE,
// the reserve is closed, the pending connection accepted and closed at once (its client sees a
// reset and retries), the reserve reopened, and EINTR returned, so gRPC's loop calls again until
// the backlog is empty and re-arms on EAGAIN. If the reserve cannot be reopened (another thread
// took the slot), EAGAIN is returned: the listener re-arms and retries at the next connection.
// So connections are refused only while the process is at its limit, never after.
//
//   InstallAcceptReserve();  // before the server starts; idempotent and thread-safe
//
// Without InstallAcceptReserve, accept4 behaves as libc's.
#ifndef EMAR_COMMON_ACCEPT_RESERVE_H_
#define EMAR_COMMON_ACCEPT_RESERVE_H_

#include <cstdint>

namespace emar {

void InstallAcceptReserve();

// Connections closed at once because the process was out of descriptors (a metric).
int64_t AcceptReserveDrops();

}  // namespace emar

#endif  // EMAR_COMMON_ACCEPT_RESERVE_H_
