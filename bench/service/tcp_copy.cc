// The yardstick of the upload benchmark (issue 13): copies files over a raw loopback TCP
// connection (127.0.0.1, port 0) the simplest fast way, read() 1 MiB from the file and write() it
// to the socket, while a receiver thread read()s and discards. No hashing, no framing, no disk
// writes on the receiving side.
//
//   build/bench/tcp_copy FILE...
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
  if (argc < 2) {
    std::fprintf(stderr, "usage: tcp_copy FILE...\n");
    return 2;
  }
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
  std::thread receiver([&] {
    const int c = ::accept(listener, nullptr, nullptr);
    std::vector<char> buf(1 << 20);
    ssize_t n;
    while ((n = ::read(c, buf.data(), buf.size())) > 0) received += n;
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
  for (int i = 1; i < argc; ++i) {
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
  if (received != sent) {
    std::fprintf(stderr, "tcp_copy: sent %lld, received %lld\n", sent, received);
    return 1;
  }
  std::printf("{\"bytes\": %lld, \"seconds\": %.3f, \"gb_per_s\": %.3f}\n", sent, seconds,
              static_cast<double>(sent) / seconds / 1e9);
  return 0;
}
