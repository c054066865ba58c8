// The on-disk record of a sweep file in progress (sweep_file.cpp): "<out>.partial" holds the bytes written
// so far (preamble, then the rows of finished blocks in point order) and "<out>.partial.idx" one line per
// finished block with its range, where its rows end and their checksum, so a killed sweep continues at
// the first point that is not on disk.
//
// The index is untrusted when it is read back: its first line must name the same sweep (else the
// sweep is refused), and block lines count only while each one's own checksum, its range and the
// checksum of its rows in the data file all hold; the first that does not (a write cut short by a kill)
// and everything after it are dropped and computed again. Appending is ordered so that a kill at any
// moment leaves a consistent prefix: the rows are written and synced before the line that covers them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace dynlib::core {

struct JournalIdentity {
  std::string key;      // what makes two runs the same sweep (hashed into the index)
  std::string command;  // how it was asked for, for messages
};

class SweepJournal {
 public:
  // Continues the journal of `out` if there is one for `id` (DynlibError if it is another sweep's), else
  // starts one whose data begins with `preamble`. Points [first, last) are the journal's.
  SweepJournal(const std::filesystem::path& out, const JournalIdentity& id, std::string_view preamble,
               std::size_t first, std::size_t last);
  SweepJournal(const SweepJournal&) = delete;
  SweepJournal& operator=(const SweepJournal&) = delete;
  ~SweepJournal();

  std::size_t next_point() const { return next_; }                        // first point not done
  std::size_t failed() const { return failed_; }                          // failed points among the done ones
  const std::vector<std::string>& failures() const { return failures_; }  // their first messages
  // The checksum (XXH3-64) and size of the data after the preamble's first line if that is a comment
  // (a shard's identity line), as far as it is written.
  std::uint64_t data_hash() const;
  std::uint64_t hashed_size() const { return data_end_ - hash_skip_; }

  // Records the block [first, last) (first == next_point()) with its rows, its count of failed points and
  // the messages of the first of them.
  void append(std::size_t first, std::size_t last, std::string_view rows, std::size_t failed,
              const std::vector<std::string>& messages);
  // Appends `trailer` (not part of any block), syncs and renames the data over `out`; removes the index.
  void finish(std::string_view trailer);

  static constexpr std::size_t kKeptMessages = 5;

 private:
  void start_over(std::string_view preamble);
  bool resume(std::string_view preamble);
  void write_at(int fd, const std::filesystem::path& p, std::uint64_t at, std::string_view bytes);

  std::filesystem::path out_, data_path_, index_path_;
  JournalIdentity id_;
  std::size_t first_, last_, next_, failed_ = 0;
  std::vector<std::string> failures_;
  int data_fd_ = -1, index_fd_ = -1;
  std::uint64_t data_end_ = 0, index_end_ = 0;
  std::size_t hash_skip_ = 0;   // bytes of the first line of the preamble, outside data_hash()
  void* hash_state_ = nullptr;  // XXH3_state_t over the data after hash_skip_
};

}  // namespace dynlib::core
