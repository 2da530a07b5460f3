// Child processes and scratch directories for multi-process tests: start a real binary with its
// stdout and stderr captured to files, send it real signals, wait for it with a deadline. Nothing
// outlives the test: a Process kills (SIGKILL) and reaps its child on destruction, and the child
// also gets SIGKILL if the test binary itself dies (PR_SET_PDEATHSIG), e.g. on a ctest timeout.
//
//   ASSERT_OK_AND_ASSIGN(TempDir dir, TempDir::Create("coordinator"));
//   ASSERT_OK_AND_ASSIGN(auto coordinator, Process::Start({"bin/emar-coordinator", ...},
//   dir.path()));
//   ...
//   ASSERT_OK(coordinator->Signal(SIGTERM));
//   ASSERT_OK_AND_ASSIGN(ExitStatus exit, coordinator->Wait(absl::Seconds(20)));
//   EXPECT_TRUE(exit.Exited(0));
//
//   CommandResult r = RunCommand({"bin/emarctl", "list", "--format", "json"}, absl::Seconds(30));
//   EXPECT_EQ(r.exit.code, 0) << r.err;
//
// Not thread-safe: start, signal and wait a Process from the thread that created it (the death
// signal follows the creating thread, so start children from the test's main thread).
#ifndef EMAR_TESTS_SYSTEM_PROCESS_H_
#define EMAR_TESTS_SYSTEM_PROCESS_H_

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace emar::testing {

// How a child ended: a normal exit with `code`, or death by `signal`.
struct ExitStatus {
  bool exited = false;
  int code = -1;
  int signal = 0;

  bool Exited(int want) const { return exited && code == want; }
  std::string ToString() const;
};

// A directory under $TMPDIR (else /tmp), removed with everything in it on destruction. Movable.
class TempDir {
 public:
  static absl::StatusOr<TempDir> Create(const std::string& prefix);
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::string& path() const { return path_; }
  // path()/rel.
  std::string Join(const std::string& rel) const;

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

class Process {
 public:
  // Starts argv[0] (a path, not searched in $PATH) with argv. stdin is /dev/null; stdout and stderr
  // go to `log_dir`/<name>.<test pid>-<n>.out|err (name: argv[0]'s base name). The child runs in
  // the current working directory and inherits the environment.
  static absl::StatusOr<std::unique_ptr<Process>> Start(const std::vector<std::string>& argv,
                                                        const std::string& log_dir);
  // SIGKILL and reap the child if it still runs.
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& stdout_path() const { return stdout_path_; }
  const std::string& stderr_path() const { return stderr_path_; }
  std::string ReadStdout() const;
  std::string ReadStderr() const;

  // Sends `sig` (a real signal) to the child. FAILED_PRECONDITION once the child is reaped.
  absl::Status Signal(int sig);
  // Reaps the child if it has ended; false while it runs.
  bool Poll();
  bool running() { return !Poll(); }
  // Waits up to `timeout` for the child to end. DEADLINE_EXCEEDED (child left running) otherwise.
  absl::StatusOr<ExitStatus> Wait(absl::Duration timeout);

 private:
  Process() = default;

  pid_t pid_ = -1;
  bool reaped_ = false;
  ExitStatus exit_;
  std::string stdout_path_;
  std::string stderr_path_;
};

// A command run to completion (or killed after the timeout, then exit.signal == SIGKILL).
struct CommandResult {
  ExitStatus exit;
  std::string out;
  std::string err;
  bool timed_out = false;
};
// Runs argv with captured output in a private temporary directory, removed afterwards.
CommandResult RunCommand(const std::vector<std::string>& argv, absl::Duration timeout);

// emarctl's stderr without its plain progress lines ("emarctl: [phase] ..."): what is left is
// what it had to say (an error is one line).
std::string WithoutProgressLines(const std::string& err);

// Calls `condition` until it returns true or `timeout` passes (then false). The pause between
// calls only paces the polling; no test relies on its length.
bool PollUntil(const std::function<bool()>& condition, absl::Duration timeout,
               absl::Duration interval = absl::Milliseconds(20));

// Whole-file helpers for test fixtures; they report the path on failure.
absl::StatusOr<std::string> ReadFile(const std::string& path);
absl::Status WriteFile(const std::string& path, const std::string& contents);
// Copies a directory tree (regular files and directories only).
absl::Status CopyTree(const std::string& from, const std::string& to);

}  // namespace emar::testing

#endif  // EMAR_TESTS_SYSTEM_PROCESS_H_
