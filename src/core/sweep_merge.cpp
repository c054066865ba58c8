// merge_sweep_shards (include/dynlib/batch.hpp): shard files of one sweep joined into its CSV file.
// A shard file is "# dynlib sweep shard K/N: points A-B of P, sweep ID" + the CSV header + its rows +
// "# end of shard: BYTES bytes, xxh3 HASH" over the header and rows; the files are untrusted input.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dynlib/batch.hpp>
#include <dynlib/errors.hpp>
#include <map>

#include "util/output_file.hpp"

namespace dynlib {
namespace {

struct Shard {
  std::filesystem::path path;
  unsigned long long k = 0, n = 0, first = 0, last = 0, total = 0;
  std::string sweep_id, header;
  std::uint64_t body_begin = 0, body_bytes = 0;  // header + rows
  std::string body_hash;
};

class ReadFd {
 public:
  explicit ReadFd(const std::filesystem::path& p) : path_(p) {
    fd_ = ::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) throw DynlibError("Cannot read shard '" + p.string() + "': " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd_);
      throw DynlibError("Cannot read shard '" + p.string() + "': not a regular file");
    }
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~ReadFd() { ::close(fd_); }
  ReadFd(const ReadFd&) = delete;
  ReadFd& operator=(const ReadFd&) = delete;
  std::uint64_t size() const { return size_; }
  std::string read(std::uint64_t at, std::size_t n) const {
    std::string b(n, '\0');
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_, b.data() + got, n - got, static_cast<off_t>(at + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) throw DynlibError("Cannot read shard '" + path_.string() + "': it ended early or changed");
      got += static_cast<std::size_t>(r);
    }
    return b;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

[[noreturn]] void not_a_shard(const std::filesystem::path& p, const std::string& why) {
  throw DynlibError("'" + p.string() + "' is not a complete shard of a dynlib sweep (" + why +
                    "); shards are written by 'dynlib sweep ... --shard K/N --out FILE'");
}

Shard read_shard(const std::filesystem::path& p) {
  Shard s;
  s.path = p;
  ReadFd f(p);
  const std::string head = f.read(0, static_cast<std::size_t>(std::min<std::uint64_t>(f.size(), 1 << 20)));
  const auto nl1 = head.find('\n');
  const auto nl2 = nl1 == std::string::npos ? nl1 : head.find('\n', nl1 + 1);
  if (nl2 == std::string::npos) not_a_shard(p, "no identity line and CSV header");
  char id[33] = {};
  const std::string line1 = head.substr(0, nl1);
  int used = 0;
  if (std::sscanf(line1.c_str(),
                  "# dynlib sweep shard %llu/%llu: points %llu-%llu of %llu, sweep %32[0-9a-f]%n", &s.k, &s.n,
                  &s.first, &s.last, &s.total, id, &used) != 6 ||
      static_cast<std::size_t>(used) != line1.size())
    not_a_shard(p, "its first line is not a shard's identity line");
  s.sweep_id = id;
  s.header = head.substr(nl1 + 1, nl2 - nl1);
  s.body_begin = nl1 + 1;
  // The trailer: the last line.
  const std::uint64_t tail_n = std::min<std::uint64_t>(f.size() - s.body_begin, 256);
  const std::string tail = f.read(f.size() - tail_n, static_cast<std::size_t>(tail_n));
  if (tail.empty() || tail.back() != '\n') not_a_shard(p, "it does not end with a complete line");
  const auto start = tail.rfind('\n', tail.size() - 2);
  const std::string last_line = tail.substr(start == std::string::npos ? 0 : start + 1);
  unsigned long long bytes = 0;
  char hash[17] = {};
  used = 0;
  if (std::sscanf(last_line.c_str(), "# end of shard: %llu bytes, xxh3 %16[0-9a-f]\n%n", &bytes, hash,
                  &used) != 2 ||
      static_cast<std::size_t>(used) != last_line.size() ||
      bytes != f.size() - s.body_begin - last_line.size())
    not_a_shard(p, "its last line is not the end-of-shard line with its size: it was cut short or changed");
  s.body_bytes = bytes;
  s.body_hash = hash;
  return s;
}

}  // namespace

void merge_sweep_shards(const std::vector<std::filesystem::path>& paths, const std::filesystem::path& out) {
  if (paths.empty()) throw ArgumentError("sweep-merge: no shard files given");
  std::map<unsigned long long, Shard> by_k;
  const Shard* ref = nullptr;
  for (const auto& p : paths) {
    if (util::same_output_path(p, out))
      throw ArgumentError("sweep-merge: the output '" + out.string() + "' is also one of the shards");
    Shard s = read_shard(p);
    if (ref &&
        (s.sweep_id != ref->sweep_id || s.n != ref->n || s.total != ref->total || s.header != ref->header))
      throw DynlibError("'" + p.string() + "' is a shard of another sweep than '" + ref->path.string() +
                        "' (sweep " + s.sweep_id + ", " + std::to_string(s.n) + " shards, versus sweep " +
                        ref->sweep_id + ", " + std::to_string(ref->n) + " shards)");
    if (s.k >= s.n || s.first != shard_start(s.total, s.k, s.n) ||
        s.last != shard_start(s.total, s.k + 1, s.n))
      not_a_shard(p, "its shard number or point range is inconsistent");
    const auto k = s.k;
    if (by_k.count(k))
      throw DynlibError("shard " + std::to_string(k) + "/" + std::to_string(s.n) + " is given twice: '" +
                        by_k.at(k).path.string() + "' and '" + p.string() + "'");
    by_k.emplace(k, std::move(s));
    ref = &by_k.begin()->second;
  }
  std::string missing;
  for (unsigned long long k = 0; k < ref->n; ++k)
    if (!by_k.count(k))
      missing += (missing.empty() ? "" : ", ") + std::to_string(k) + "/" + std::to_string(ref->n);
  if (!missing.empty())
    throw DynlibError("shard" + std::string(missing.find(',') == std::string::npos ? " " : "s ") + missing +
                      " of sweep " + ref->sweep_id + " missing (the merge needs all " +
                      std::to_string(ref->n) + ", numbered 0 to " + std::to_string(ref->n - 1) + ")");
  try {
    util::OutputFile o(out);
    XXH3_state_t* h = XXH3_createState();
    if (!h) throw std::bad_alloc();
    try {
      for (const auto& [k, s] : by_k) {
        ReadFd f(s.path);
        XXH3_64bits_reset(h);
        for (std::uint64_t at = 0; at < s.body_bytes;) {
          const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(s.body_bytes - at, 1 << 20));
          const std::string chunk = f.read(s.body_begin + at, n);
          XXH3_64bits_update(h, chunk.data(), chunk.size());
          // The header once, from shard 0; each shard's rows after it.
          const std::size_t skip =
              k > 0 && at < s.header.size() ? std::min(n, s.header.size() - static_cast<std::size_t>(at)) : 0;
          o.write(std::string_view(chunk).substr(skip));
          at += n;
        }
        char hex[17];
        std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(XXH3_64bits_digest(h)));
        if (s.body_hash != hex)
          throw DynlibError("'" + s.path.string() +
                            "' was changed after it was written (its checksum does not match)");
      }
    } catch (...) {
      XXH3_freeState(h);
      throw;
    }
    XXH3_freeState(h);
    o.commit();
  } catch (const util::FileWriteError& e) {
    throw DynlibError("Cannot write '" + out.string() + "': " + e.reason());
  }
}

}  // namespace dynlib
