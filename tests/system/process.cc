#include "tests/system/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"

namespace emar::testing {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int OpenForWrite(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

}  // namespace

std::string ExitStatus::ToString() const {
  if (exited) return absl::StrCat("exit code ", code);
  if (signal != 0) return absl::StrCat("killed by signal ", signal, " (", strsignal(signal), ")");
  return "not ended";
}

// TempDir.

absl::StatusOr<TempDir> TempDir::Create(const std::string& prefix) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = absl::StrCat(tmp && *tmp ? tmp : "/tmp", "/emar-", prefix, "-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) return Errno(absl::StrCat("mkdtemp ", tmpl));
  return TempDir(tmpl);
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!path_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string TempDir::Join(const std::string& rel) const { return absl::StrCat(path_, "/", rel); }

// Process.

absl::StatusOr<std::unique_ptr<Process>> Process::Start(const std::vector<std::string>& argv,
                                                        const std::string& log_dir) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  std::unique_ptr<Process> p(new Process());
  // Output files are named after the pid, known only after fork: open them under a temporary name.
  static int counter = 0;
  const std::string stem =
      absl::StrCat(log_dir, "/", BaseName(argv[0]), ".", ::getpid(), "-", counter++);
  p->stdout_path_ = stem + ".out";
  p->stderr_path_ = stem + ".err";
  const int out = OpenForWrite(p->stdout_path_);
  if (out < 0) return Errno(absl::StrCat("open ", p->stdout_path_));
  const int err = OpenForWrite(p->stderr_path_);
  if (err < 0) {
    ::close(out);
    return Errno(absl::StrCat("open ", p->stderr_path_));
  }
  const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int exec_pipe[2];  // the child writes errno here if exec fails; CLOEXEC closes it on success
  if (devnull < 0 || ::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    ::close(out);
    ::close(err);
    if (devnull >= 0) ::close(devnull);
    return Errno("open /dev/null or pipe");
  }
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) return Errno("fork");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::setpgid(0, 0);  // own process group: a terminal's Ctrl-C goes to the test, which cleans up
    if (::dup2(devnull, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) {
      const int e = errno;
      (void)!::write(exec_pipe[1], &e, sizeof e);
      ::_exit(127);
    }
    ::execv(args[0], args.data());
    const int e = errno;
    (void)!::write(exec_pipe[1], &e, sizeof e);
    ::_exit(127);
  }
  ::close(out);
  ::close(err);
  ::close(devnull);
  ::close(exec_pipe[1]);
  p->pid_ = pid;
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_pipe[0], &child_errno, sizeof child_errno);
  } while (n < 0 && errno == EINTR);
  ::close(exec_pipe[0]);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    p->Wait(absl::Seconds(10)).IgnoreError();
    errno = child_errno;
    return Errno(absl::StrCat("exec ", argv[0]));
  }
  return p;
}

Process::~Process() {
  if (pid_ <= 0 || Poll()) return;
  ::kill(pid_, SIGKILL);
  int status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

namespace {
std::string ReadOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

std::string Process::ReadStdout() const { return ReadOrEmpty(stdout_path_); }
std::string Process::ReadStderr() const { return ReadOrEmpty(stderr_path_); }

absl::Status Process::Signal(int sig) {
  if (reaped_)
    return absl::FailedPreconditionError(absl::StrCat("process ", pid_, " has already ended"));
  if (::kill(pid_, sig) != 0) return Errno(absl::StrCat("kill ", pid_));
  return absl::OkStatus();
}

bool Process::Poll() {
  if (reaped_) return true;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return false;
  reaped_ = true;
  if (WIFEXITED(status)) {
    exit_.exited = true;
    exit_.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_.signal = WTERMSIG(status);
  }
  return true;
}

absl::StatusOr<ExitStatus> Process::Wait(absl::Duration timeout) {
  if (PollUntil([this] { return Poll(); }, timeout, absl::Milliseconds(5))) return exit_;
  return absl::DeadlineExceededError(
      absl::StrCat("process ", pid_, " still running after ", absl::FormatDuration(timeout)));
}

CommandResult RunCommand(const std::vector<std::string>& argv, absl::Duration timeout) {
  CommandResult result;
  auto dir = TempDir::Create("cmd");
  if (!dir.ok()) {
    result.err = std::string(dir.status().message());
    return result;
  }
  auto p = Process::Start(argv, dir->path());
  if (!p.ok()) {
    result.err = std::string(p.status().message());
    return result;
  }
  auto exit = (*p)->Wait(timeout);
  if (!exit.ok()) {
    result.timed_out = true;
    (void)(*p)->Signal(SIGKILL);
    exit = (*p)->Wait(absl::Seconds(30));
  }
  if (exit.ok()) result.exit = *exit;
  result.out = (*p)->ReadStdout();
  result.err = (*p)->ReadStderr();
  return result;
}

std::string WithoutProgressLines(const std::string& err) {
  std::string out;
  size_t start = 0;
  while (start < err.size()) {
    size_t end = err.find('\n', start);
    end = end == std::string::npos ? err.size() : end + 1;
    const std::string line = err.substr(start, end - start);
    if (line.rfind("emarctl: [", 0) != 0) out += line;
    start = end;
  }
  return out;
}

bool PollUntil(const std::function<bool()>& condition, absl::Duration timeout,
               absl::Duration interval) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(interval));
  }
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::Status CopyTree(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::copy(
      from, to,
      std::filesystem::copy_options::recursive | std::filesystem::copy_options::overwrite_existing,
      ec);
  if (ec) return absl::InternalError(absl::StrCat("copy ", from, " -> ", to, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace emar::testing
