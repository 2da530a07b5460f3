#include "common/accept_reserve.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "absl/synchronization/mutex.h"

namespace emar {
namespace {

std::atomic<bool> installed{false};
std::atomic<int64_t> drops{0};
absl::Mutex reserve_mu(absl::kConstInit);
int reserve_fd ABSL_GUARDED_BY(reserve_mu) = -1;

int RealAccept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  return static_cast<int>(::syscall(SYS_accept4, fd, addr, len, flags));
}

// Called after the real accept4 failed with EMFILE or ENFILE (errno `err`) on `fd`. Returns
// what accept4 returns (-1) with errno set for the caller.
int DropOneWithTheReserve(int fd, int err) {
  absl::MutexLock lock(&reserve_mu);
  if (reserve_fd < 0) reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (reserve_fd < 0) {
    errno = EAGAIN;  // re-armed: the next connection retries
    return -1;
  }
  ::close(reserve_fd);
  reserve_fd = -1;
  const int dropped = RealAccept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
  const int accept_err = errno;
  if (dropped >= 0) {
    ::close(dropped);
    drops.fetch_add(1, std::memory_order_relaxed);
  }
  reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (dropped >= 0) {
    errno = EINTR;  // the caller calls again: the rest of the backlog, or EAGAIN
  } else {
    errno = accept_err == EAGAIN || accept_err == EWOULDBLOCK ? EAGAIN : err;
    if (errno == EMFILE || errno == ENFILE) errno = EAGAIN;
  }
  return -1;
}

}  // namespace

void InstallAcceptReserve() {
  absl::MutexLock lock(&reserve_mu);
  if (reserve_fd < 0) reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  installed.store(true);
}

int64_t AcceptReserveDrops() { return drops.load(std::memory_order_relaxed); }

}  // namespace emar

// Preempts libc's accept4 for the whole process (see the header); plain accept4 until installed.
extern "C" int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  const int accepted = emar::RealAccept4(fd, addr, len, flags);
  if (accepted >= 0 || (errno != EMFILE && errno != ENFILE) || !emar::installed.load()) {
    return accepted;
  }
  return emar::DropOneWithTheReserve(fd, errno);
}
