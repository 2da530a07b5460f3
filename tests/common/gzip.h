// gzip-compresses bytes in memory for tests that feed compressed inputs (zlib, best compression).
#ifndef EMAR_TESTS_COMMON_GZIP_H_
#define EMAR_TESTS_COMMON_GZIP_H_

#include <zlib.h>

#include <string>

namespace emar::testing {

inline std::string Gzip(const std::string& data) {
  z_stream zs{};
  deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, data.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace emar::testing

#endif  // EMAR_TESTS_COMMON_GZIP_H_
