// The yardstick of the upload benchmark: copies files over a raw loopback TCP
// connection (127.0.0.1, port 0) the simplest fast way, read() 1 MiB from the file and write() it
// to the socket, while a receiver thread read()s and discards. No hashing, no framing, no disk
// writes on the receiving side.
//
// With --durable DIR the receiver instead write()s the bytes to a file in DIR and fsync()s it
// before the copy counts as done (then removes it): the least any upload that acknowledges only
// durable data can take on this disk, the second yardstick of the upload benchmark.
//
//   build/bench/tcp_copy [--durable DIR] FILE...
//
// Prints {"bytes": N, "seconds": S, "gb_per_s": R}, timed from connect to the receiver's EOF.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  std::string durable_dir;
  int first_file = 1;
  if (argc >= 3 && std::string(argv[1]) == "--durable") {
    durable_dir = argv[2];
    first_file = 3;
  }
  if (argc <= first_file) {
    std::fprintf(stderr, "usage: tcp_copy [--durable DIR] FILE...\n");
    return 2;
  }
  const std::string sink_path = durable_dir + "/tcp_copy.sink";
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::perror("tcp_copy: listen");
    return 1;
  }
  long long received = 0;
  bool sink_failed = false;
  std::thread receiver([&] {
    const int c = ::accept(listener, nullptr, nullptr);
    const int out = durable_dir.empty()
                        ? -1
                        : ::open(sink_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (!durable_dir.empty() && out < 0) sink_failed = true;
    std::vector<char> buf(1 << 20);
    ssize_t n;
    while ((n = ::read(c, buf.data(), buf.size())) > 0) {
      received += n;
      if (out >= 0 && ::write(out, buf.data(), static_cast<size_t>(n)) != n) sink_failed = true;
    }
    if (out >= 0) {
      if (::fsync(out) != 0) sink_failed = true;
      ::close(out);
    }
    ::close(c);
  });
  const auto t0 = std::chrono::steady_clock::now();
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("tcp_copy: connect");
    return 1;
  }
  std::vector<char> buf(1 << 20);
  long long sent = 0;
  for (int i = first_file; i < argc; ++i) {
    const int fd = ::open(argv[i], O_RDONLY);
    if (fd < 0) {
      std::perror(argv[i]);
      return 1;
    }
    ssize_t n;
    while ((n = ::read(fd, buf.data(), buf.size())) > 0) {
      for (ssize_t off = 0; off < n;) {
        const ssize_t w = ::write(s, buf.data() + off, static_cast<size_t>(n - off));
        if (w <= 0) {
          std::perror("tcp_copy: write");
          return 1;
        }
        off += w;
      }
      sent += n;
    }
    ::close(fd);
  }
  ::shutdown(s, SHUT_WR);
  receiver.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(s);
  ::close(listener);
  if (!durable_dir.empty()) ::unlink(sink_path.c_str());
  if (sink_failed) {
    std::fprintf(stderr, "tcp_copy: writing %s failed\n", sink_path.c_str());
    return 1;
  }
  if (received != sent) {
    std::fprintf(stderr, "tcp_copy: sent %lld, received %lld\n", sent, received);
    return 1;
  }
  std::printf("{\"bytes\": %lld, \"seconds\": %.3f, \"gb_per_s\": %.3f}\n", sent, seconds,
              static_cast<double>(sent) / seconds / 1e9);
  return 0;
}
