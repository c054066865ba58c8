// SweepJournal (sweep_journal.hpp): the data and index files of a sweep file in progress.
#include "core/sweep_journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <dynlib/errors.hpp>

#include "util/output_file.hpp"
#include "util/regular_file.hpp"

namespace dynlib::core {
namespace {

constexpr const char* kMagic = "dynlib-sweep-journal";
constexpr std::size_t kMaxIndexBytes = std::size_t{1} << 30;

std::string hex64(std::uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

std::uint64_t hash_of(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

// Index fields are separated by tabs; a message or command may hold any byte.
std::string escape(std::string_view s) {
  std::string r;
  for (char c : s) {
    if (c == '\\')
      r += "\\\\";
    else if (c == '\t')
      r += "\\t";
    else if (c == '\n')
      r += "\\n";
    else if (c == '\r')
      r += "\\r";
    else
      r += c;
  }
  return r;
}

std::string unescape(std::string_view s) {
  std::string r;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      r += s[i];
      continue;
    }
    const char c = s[++i];
    r += c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
  }
  return r;
}

// A line of fields with its own checksum as the last field.
std::string sealed_line(const std::vector<std::string>& fields) {
  std::string line;
  for (const auto& f : fields) line += f + '\t';
  return line + hex64(hash_of(line)) + '\n';
}

// The fields of a sealed line, or nothing if its checksum does not hold.
bool open_line(std::string_view line, std::vector<std::string>& fields) {
  const auto tab = line.rfind('\t');
  if (tab == std::string_view::npos || line.substr(tab + 1) != hex64(hash_of(line.substr(0, tab + 1))))
    return false;
  fields.clear();
  std::size_t a = 0;
  for (std::size_t b = line.find('\t'); b != std::string_view::npos && b <= tab; b = line.find('\t', a)) {
    fields.emplace_back(line.substr(a, b - a));
    a = b + 1;
  }
  return true;
}

bool parse_u64(const std::string& s, std::uint64_t& v) {
  if (s.empty() || s.size() > 20) return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const std::uint64_t d = static_cast<std::uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  return true;
}

[[noreturn]] void fail_io(const std::filesystem::path& p, const std::string& what) {
  throw DynlibError("Cannot " + what + " '" + p.string() + "': " + std::strerror(errno));
}

// Opens an existing file for reading and writing: a regular file only (no FIFO, device or symlink).
int open_regular(const std::filesystem::path& p) {
  const int fd = ::open(p.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return -1;
    fail_io(p, "open");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw DynlibError("Cannot use '" + p.string() + "' for a sweep in progress: it is not a regular file");
  }
  return fd;
}

XXH3_state_t* state(void* p) { return static_cast<XXH3_state_t*>(p); }

}  // namespace

SweepJournal::SweepJournal(const std::filesystem::path& out, const JournalIdentity& id,
                           std::string_view preamble, std::size_t first, std::size_t last)
    : out_(out),
      data_path_(out.string() + ".partial"),
      index_path_(out.string() + ".partial.idx"),
      id_(id),
      first_(first),
      last_(last),
      next_(first) {
  hash_state_ = XXH3_createState();
  if (!hash_state_) throw std::bad_alloc();
  hash_skip_ = preamble.starts_with("#") ? preamble.find('\n') + 1 : 0;
  try {
    if (!resume(preamble)) start_over(preamble);
  } catch (...) {
    if (data_fd_ >= 0) ::close(data_fd_);
    if (index_fd_ >= 0) ::close(index_fd_);
    XXH3_freeState(state(hash_state_));
    throw;
  }
}

SweepJournal::~SweepJournal() {
  if (data_fd_ >= 0) ::close(data_fd_);
  if (index_fd_ >= 0) ::close(index_fd_);
  XXH3_freeState(state(hash_state_));
}

std::uint64_t SweepJournal::data_hash() const { return XXH3_64bits_digest(state(hash_state_)); }

void SweepJournal::start_over(std::string_view preamble) {
  if (data_fd_ >= 0) ::close(data_fd_), data_fd_ = -1;
  if (index_fd_ >= 0) ::close(index_fd_), index_fd_ = -1;
  // Each file appears whole (temporary file + rename): the data first, so an index always has its data.
  const std::string head =
      sealed_line({kMagic, "1", hex64(hash_of(id_.key)), escape(id_.command), std::to_string(preamble.size()),
                   hex64(hash_of(preamble)), std::to_string(first_), std::to_string(last_)});
  try {
    util::write_output_file(data_path_, preamble);
    util::write_output_file(index_path_, head);
  } catch (const util::FileWriteError& e) {
    throw DynlibError(std::string("Cannot start the sweep file: ") + e.what());
  }
  data_fd_ = open_regular(data_path_);
  index_fd_ = open_regular(index_path_);
  if (data_fd_ < 0 || index_fd_ < 0) throw DynlibError("Cannot open '" + data_path_.string() + "' again");
  data_end_ = preamble.size();
  index_end_ = head.size();
  XXH3_64bits_reset(state(hash_state_));
  XXH3_64bits_update(state(hash_state_), preamble.data() + hash_skip_, preamble.size() - hash_skip_);
  next_ = first_;
  failed_ = 0;
  failures_.clear();
}

bool SweepJournal::resume(std::string_view preamble) {
  std::string index;
  try {
    index = util::read_regular_file(index_path_, kMaxIndexBytes, util::Symlinks::refuse);
  } catch (const util::FileReadError& e) {
    if (!std::filesystem::exists(std::filesystem::symlink_status(index_path_))) return false;
    throw DynlibError("Cannot read the record of the unfinished sweep " + std::string(e.what()) +
                      " (delete it to start over)");
  }
  const auto nl = index.find('\n');
  std::vector<std::string> f;
  if (nl == std::string::npos || !open_line(std::string_view(index).substr(0, nl), f) || f.size() != 8 ||
      f[0] != kMagic || f[1] != "1")
    throw DynlibError("'" + index_path_.string() +
                      "' is not the record of a dynlib sweep in progress, or it is damaged (delete it and '" +
                      data_path_.string() + "' to start the sweep over)");
  if (f[2] != hex64(hash_of(id_.key)) || f[6] != std::to_string(first_) || f[7] != std::to_string(last_))
    throw DynlibError(
        "'" + out_.string() + "' has an unfinished sweep of another command (its progress is in '" +
        index_path_.string() + "'):\n  unfinished: " + unescape(f[3]) + "\n  this one:   " + id_.command +
        "\nRerun the unfinished command to complete it, or delete '" + data_path_.string() + "' and '" +
        index_path_.string() + "' to start this one over.");
  if (f[4] != std::to_string(preamble.size()) || f[5] != hex64(hash_of(preamble)))
    throw DynlibError("'" + index_path_.string() + "' does not match this sweep's columns (delete it and '" +
                      data_path_.string() + "' to start over)");
  data_fd_ = open_regular(data_path_);
  if (data_fd_ < 0) return false;  // the data is gone: nothing to continue
  index_fd_ = open_regular(index_path_);
  if (index_fd_ < 0) return false;
  // Read the data in order, checking the preamble and then block after block.
  struct stat st {};
  if (::fstat(data_fd_, &st) != 0) fail_io(data_path_, "inspect");
  const auto data_size = static_cast<std::uint64_t>(st.st_size);
  std::string buf(std::size_t{1} << 20, '\0');
  std::uint64_t pos = 0;
  XXH3_state_t* total = state(hash_state_);
  XXH3_64bits_reset(total);
  XXH3_state_t* block = XXH3_createState();
  XXH3_state_t* saved = XXH3_createState();
  if (!block || !saved) {
    XXH3_freeState(block);
    XXH3_freeState(saved);
    throw std::bad_alloc();
  }
  // Hashes data [pos, end) into the block state (and the running total past the first line).
  const auto hash_to = [&](std::uint64_t end) {
    XXH3_64bits_reset(block);
    while (pos < end) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), end - pos));
      const ssize_t got = ::pread(data_fd_, buf.data(), n, static_cast<off_t>(pos));
      if (got <= 0) return false;
      const auto g = static_cast<std::size_t>(got);
      XXH3_64bits_update(block, buf.data(), g);
      const std::size_t skip =
          pos < hash_skip_ ? std::min<std::size_t>(g, hash_skip_ - static_cast<std::size_t>(pos)) : 0;
      XXH3_64bits_update(total, buf.data() + skip, g - skip);
      pos += g;
    }
    return true;
  };
  bool ok = data_size >= preamble.size() && hash_to(preamble.size()) &&
            XXH3_64bits_digest(block) == hash_of(preamble);
  std::uint64_t good_index = nl + 1;
  std::size_t next = first_;
  std::size_t failed = 0;
  std::vector<std::string> failures;
  for (std::size_t a = nl + 1; ok && a < index.size();) {
    const auto e = index.find('\n', a);
    if (e == std::string::npos) break;
    std::uint64_t b0 = 0, b1 = 0, end = 0, nfail = 0;
    if (!open_line(std::string_view(index).substr(a, e - a), f) || f.size() < 6 || f[0] != "block" ||
        !parse_u64(f[1], b0) || !parse_u64(f[2], b1) || !parse_u64(f[3], end) || !parse_u64(f[5], nfail) ||
        b0 != next || b1 <= b0 || b1 > last_ || end < pos || end > data_size || nfail > b1 - b0)
      break;
    const std::uint64_t before = pos;
    XXH3_copyState(saved, total);
    if (!hash_to(end) || hex64(XXH3_64bits_digest(block)) != f[4]) {
      XXH3_copyState(total, saved);
      pos = before;
      break;
    }
    next = static_cast<std::size_t>(b1);
    failed += static_cast<std::size_t>(nfail);
    for (std::size_t k = 6; k < f.size() && failures.size() < kKeptMessages; ++k)
      failures.push_back(unescape(f[k]));
    good_index = e + 1;
    a = e + 1;
  }
  XXH3_freeState(block);
  XXH3_freeState(saved);
  if (!ok) return false;  // the preamble itself is damaged: start over
  // Drop what is not covered (a block cut short by a kill), so appending continues from a clean end.
  if (::ftruncate(data_fd_, static_cast<off_t>(pos)) != 0) fail_io(data_path_, "truncate");
  if (::ftruncate(index_fd_, static_cast<off_t>(good_index)) != 0) fail_io(index_path_, "truncate");
  data_end_ = pos;
  index_end_ = good_index;
  next_ = next;
  failed_ = failed;
  failures_ = std::move(failures);
  return true;
}

void SweepJournal::write_at(int fd, const std::filesystem::path& p, std::uint64_t at,
                            std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(at));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_io(p, "write");
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    at += static_cast<std::uint64_t>(n);
  }
  if (::fdatasync(fd) != 0) fail_io(p, "sync");
}

void SweepJournal::append(std::size_t first, std::size_t last, std::string_view rows, std::size_t failed,
                          const std::vector<std::string>& messages) {
  if (first != next_ || last <= first || last > last_) throw DynlibError("sweep journal: block out of order");
  write_at(data_fd_, data_path_, data_end_, rows);
  std::vector<std::string> fields = {"block",
                                     std::to_string(first),
                                     std::to_string(last),
                                     std::to_string(data_end_ + rows.size()),
                                     hex64(hash_of(rows)),
                                     std::to_string(failed)};
  for (const auto& m : messages) fields.push_back(escape(m));
  const std::string line = sealed_line(fields);
  write_at(index_fd_, index_path_, index_end_, line);
  data_end_ += rows.size();
  index_end_ += line.size();
  XXH3_64bits_update(state(hash_state_), rows.data(), rows.size());
  next_ = last;
  failed_ += failed;
  for (const auto& m : messages)
    if (failures_.size() < kKeptMessages) failures_.push_back(m);
}

void SweepJournal::finish(std::string_view trailer) {
  if (next_ != last_) throw DynlibError("sweep journal: finished before every block was written");
  if (!trailer.empty()) write_at(data_fd_, data_path_, data_end_, trailer);
  if (::fsync(data_fd_) != 0) fail_io(data_path_, "sync");
  ::close(data_fd_);
  data_fd_ = -1;
  if (std::rename(data_path_.c_str(), out_.c_str()) != 0) fail_io(out_, "rename the finished sweep to");
  // The rename is durable with its directory; then the index has nothing left to describe.
  const auto dir = out_.parent_path().empty() ? std::filesystem::path(".") : out_.parent_path();
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  ::close(index_fd_);
  index_fd_ = -1;
  std::error_code ec;
  std::filesystem::remove(index_path_, ec);
}

}  // namespace dynlib::core
