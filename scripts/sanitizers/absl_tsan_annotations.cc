// ThreadSanitizer annotations for Debian's prebuilt Abseil (scripts/sanitize.sh tsan).
//
// libabsl_synchronization.so is not built with -fsanitize=thread, so TSan cannot see that
// absl::Mutex orders the accesses it guards, and would report every ABSL_GUARDED_BY member as a
// race. scripts/sanitize.sh links this file into each TSan binary with `-Wl,--wrap=SYMBOL` for
// every `__wrap_SYMBOL` below: our code's calls to absl::Mutex (and Notification) land here,
// tell TSan what the call does to the lock (the same annotations Abseil makes when it is built
// with TSan), and call the real function (`__real_SYMBOL`). Only calls made from our own objects
// are seen; gRPC's internal use of Abseil stays invisible, which is why tsan.supp exists.
//
// The `__real_` declarations are weak so that a link without Abseil (CMake's compiler checks,
// which get the same linker flags) still succeeds; in our binaries they resolve to Abseil.
//
// The symbols are Abseil 20220623 in Debian's inline namespace `debian3`; a link error naming
// one of them means the installed Abseil changed and this list must follow.
#include <sanitizer/tsan_interface.h>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace {

constexpr unsigned kRead = __tsan_mutex_read_lock;

// The caller holds `mu`; the real call releases it while it waits and holds it again on return.
// TSan is told "released" before (its accesses inside the call, condition checks, are ignored
// until post) and "acquired" after.
void BeforeWait(void* mu, unsigned flags) { __tsan_mutex_pre_unlock(mu, flags); }
void AfterWait(void* mu, unsigned flags) {
  __tsan_mutex_post_unlock(mu, flags);
  __tsan_mutex_pre_lock(mu, flags);
  __tsan_mutex_post_lock(mu, flags, 0);
}

}  // namespace

// NOLINTBEGIN: the names are the linker's, mangled.
extern "C" {

// void Mutex::Lock(), Unlock(), ReaderLock(), ReaderUnlock(); bool TryLock(), ReaderTryLock()
__attribute__((weak)) void __real__ZN4absl7debian35Mutex4LockEv(void* mu);
__attribute__((weak)) void __real__ZN4absl7debian35Mutex6UnlockEv(void* mu);
__attribute__((weak)) void __real__ZN4absl7debian35Mutex10ReaderLockEv(void* mu);
__attribute__((weak)) void __real__ZN4absl7debian35Mutex12ReaderUnlockEv(void* mu);
__attribute__((weak)) bool __real__ZN4absl7debian35Mutex7TryLockEv(void* mu);
__attribute__((weak)) bool __real__ZN4absl7debian35Mutex13ReaderTryLockEv(void* mu);

void __wrap__ZN4absl7debian35Mutex4LockEv(void* mu) {
  __tsan_mutex_pre_lock(mu, 0);
  __real__ZN4absl7debian35Mutex4LockEv(mu);
  __tsan_mutex_post_lock(mu, 0, 0);
}
void __wrap__ZN4absl7debian35Mutex6UnlockEv(void* mu) {
  __tsan_mutex_pre_unlock(mu, 0);
  __real__ZN4absl7debian35Mutex6UnlockEv(mu);
  __tsan_mutex_post_unlock(mu, 0);
}
void __wrap__ZN4absl7debian35Mutex10ReaderLockEv(void* mu) {
  __tsan_mutex_pre_lock(mu, kRead);
  __real__ZN4absl7debian35Mutex10ReaderLockEv(mu);
  __tsan_mutex_post_lock(mu, kRead, 0);
}
void __wrap__ZN4absl7debian35Mutex12ReaderUnlockEv(void* mu) {
  __tsan_mutex_pre_unlock(mu, kRead);
  __real__ZN4absl7debian35Mutex12ReaderUnlockEv(mu);
  __tsan_mutex_post_unlock(mu, kRead);
}
bool __wrap__ZN4absl7debian35Mutex7TryLockEv(void* mu) {
  __tsan_mutex_pre_lock(mu, __tsan_mutex_try_lock);
  const bool ok = __real__ZN4absl7debian35Mutex7TryLockEv(mu);
  __tsan_mutex_post_lock(mu, __tsan_mutex_try_lock | (ok ? 0 : __tsan_mutex_try_lock_failed), 0);
  return ok;
}
bool __wrap__ZN4absl7debian35Mutex13ReaderTryLockEv(void* mu) {
  const unsigned flags = kRead | __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock(mu, flags);
  const bool ok = __real__ZN4absl7debian35Mutex13ReaderTryLockEv(mu);
  __tsan_mutex_post_lock(mu, flags | (ok ? 0 : __tsan_mutex_try_lock_failed), 0);
  return ok;
}

// void LockWhen(const Condition&), ReaderLockWhen(const Condition&);
// bool LockWhenWithTimeout(const Condition&, Duration), LockWhenWithDeadline(..., Time).
__attribute__((weak)) void __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(
    void* mu, const void* cond);
__attribute__((weak)) void __real__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(
    void* mu, const void* cond);
__attribute__((weak)) bool
__real__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    void* mu, const void* cond, absl::Duration timeout);
__attribute__((weak)) bool
__real__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    void* mu, const void* cond, absl::Time deadline);

void __wrap__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(void* mu, const void* cond) {
  __tsan_mutex_pre_lock(mu, 0);
  __real__ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE(mu, cond);
  __tsan_mutex_post_lock(mu, 0, 0);
}
void __wrap__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(void* mu, const void* cond) {
  __tsan_mutex_pre_lock(mu, kRead);
  __real__ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE(mu, cond);
  __tsan_mutex_post_lock(mu, kRead, 0);
}
bool __wrap__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    void* mu, const void* cond, absl::Duration timeout) {
  __tsan_mutex_pre_lock(mu, 0);
  const bool r = __real__ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE(
      mu, cond, timeout);
  __tsan_mutex_post_lock(mu, 0, 0);
  return r;
}
bool __wrap__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    void* mu, const void* cond, absl::Time deadline) {
  __tsan_mutex_pre_lock(mu, 0);
  const bool r = __real__ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE(
      mu, cond, deadline);
  __tsan_mutex_post_lock(mu, 0, 0);
  return r;
}

// void Await(const Condition&); bool AwaitWithTimeout(..., Duration), AwaitWithDeadline(..., Time)
// (the writer lock is held: every Await in the project is under MutexLock).
__attribute__((weak)) void __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(void* mu,
                                                                                 const void* cond);
__attribute__((weak)) bool
__real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    void* mu, const void* cond, absl::Duration timeout);
__attribute__((weak)) bool
__real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(void* mu,
                                                                             const void* cond,
                                                                             absl::Time deadline);

void __wrap__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(void* mu, const void* cond) {
  BeforeWait(mu, 0);
  __real__ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE(mu, cond);
  AfterWait(mu, 0);
}
bool __wrap__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
    void* mu, const void* cond, absl::Duration timeout) {
  BeforeWait(mu, 0);
  const bool r = __real__ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE(
      mu, cond, timeout);
  AfterWait(mu, 0);
  return r;
}
bool __wrap__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
    void* mu, const void* cond, absl::Time deadline) {
  BeforeWait(mu, 0);
  const bool r = __real__ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE(
      mu, cond, deadline);
  AfterWait(mu, 0);
  return r;
}

// void CondVar::Wait(Mutex*); bool WaitWithTimeout(Mutex*, Duration).
__attribute__((weak)) void __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(void* cv, void* mu);
__attribute__((weak)) bool
__real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(void* cv, void* mu,
                                                                            absl::Duration timeout);

void __wrap__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(void* cv, void* mu) {
  BeforeWait(mu, 0);
  __real__ZN4absl7debian37CondVar4WaitEPNS0_5MutexE(cv, mu);
  AfterWait(mu, 0);
}
bool __wrap__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(
    void* cv, void* mu, absl::Duration timeout) {
  BeforeWait(mu, 0);
  const bool r =
      __real__ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE(cv, mu, timeout);
  AfterWait(mu, 0);
  return r;
}

// Notification: Notify() happens before every WaitForNotification*() that returns true.
__attribute__((weak)) void __real__ZN4absl7debian312Notification6NotifyEv(void* n);
__attribute__((weak)) void __real__ZNK4absl7debian312Notification19WaitForNotificationEv(
    const void* n);
__attribute__((weak)) bool
__real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const void* n, absl::Duration timeout);

void __wrap__ZN4absl7debian312Notification6NotifyEv(void* n) {
  __tsan_release(n);
  __real__ZN4absl7debian312Notification6NotifyEv(n);
}
void __wrap__ZNK4absl7debian312Notification19WaitForNotificationEv(const void* n) {
  __real__ZNK4absl7debian312Notification19WaitForNotificationEv(n);
  __tsan_acquire(const_cast<void*>(n));
}
bool __wrap__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
    const void* n, absl::Duration timeout) {
  const bool r =
      __real__ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE(
          n, timeout);
  if (r) __tsan_acquire(const_cast<void*>(n));
  return r;
}

}  // extern "C"
// NOLINTEND
