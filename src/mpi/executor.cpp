// dynlib::mpi::Session and Executor (include/dynlib/mpi.hpp).
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstring>
#include <deque>
#include <dynlib/errors.hpp>
#include <dynlib/mpi.hpp>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace dynlib::mpi {
namespace {

// Message kinds. Worker -> rank 0: kAsk (send me a block), kResult (first, last, bytes), kFail (first,
// last, why). Rank 0 -> worker: kWork (first, last) or kStop, one answer to each kAsk. A worker asks for its
// next block before it computes the current one, so it holds at most one block in reserve. The tag is kind +
// 8 * (run number mod 4000): a worker that was told to stop may already ask for work of the next run() while
// rank 0 still waits for the others in this one, and rank 0 must not take that message for this run.
enum Tag : int { kAsk = 1, kResult = 2, kFail = 3, kWork = 4, kStop = 5 };
constexpr int kTagStride = 8;
int tag_of(Tag kind, int run) { return kind + kTagStride * (run % 4000); }
Tag kind_of(int tag) { return static_cast<Tag>(tag % kTagStride); }

std::string with_range(PointBlock b, std::string_view rest) {
  std::string s(16, '\0');
  const std::uint64_t r[2] = {b.first, b.last};
  std::memcpy(s.data(), r, 16);
  s += rest;
  return s;
}

PointBlock range_of(const std::string& s) {
  if (s.size() < 16) throw DynlibError("MPI: a message from another rank is too short");
  std::uint64_t r[2];
  std::memcpy(r, s.data(), 16);
  return {static_cast<std::size_t>(r[0]), static_cast<std::size_t>(r[1])};
}

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw DynlibError(std::string("MPI: ") + what + " failed");
}

// Waits for a request by testing it with growing pauses (20 us to 1 ms) instead of MPI's blocking calls,
// which spin: a rank waiting for rank 0 must not take a core from the ranks that compute.
void wait_politely(MPI_Request& req, MPI_Status* st) {
  auto pause = std::chrono::microseconds(20);
  for (;;) {
    int done = 0;
    check(MPI_Test(&req, &done, st), "MPI_Test");
    if (done) return;
    std::this_thread::sleep_for(pause);
    pause = std::min(2 * pause, std::chrono::microseconds(1000));
  }
}

void send(MPI_Comm comm, int to, int tag, const std::string& bytes) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX))
    throw DynlibError("MPI: a block's results are larger than 2 GiB (use smaller blocks)");
  MPI_Request req;
  check(MPI_Isend(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, to, tag, comm, &req), "MPI_Isend");
  wait_politely(req, MPI_STATUS_IGNORE);
}

std::string receive(MPI_Comm comm, const MPI_Status& st) {
  int n = 0;
  check(MPI_Get_count(&st, MPI_BYTE, &n), "MPI_Get_count");
  std::string bytes(static_cast<std::size_t>(n), '\0');
  check(MPI_Recv(bytes.data(), n, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, comm, MPI_STATUS_IGNORE), "MPI_Recv");
  return bytes;
}

std::string points_text(PointBlock b) {
  return "points " + std::to_string(b.first) + "-" + std::to_string(b.last - 1);
}

}  // namespace

Session::Session(int* argc, char*** argv) {
  int done = 0;
  MPI_Initialized(&done);
  if (done) return;
  int provided = 0;
  check(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  owns_ = true;
}

Session::~Session() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owns_ && !finalized) MPI_Finalize();
}

int Session::rank() const {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

int Session::size() const {
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

Executor::Executor(MPI_Comm comm) : comm_(comm) {
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

void Executor::run(const std::vector<PointBlock>& blocks, const Compute& compute, const Deliver& deliver) {
  settled_ = false;
  ++runs_;
  if (size_ == 1) {
    for (const auto& b : blocks) deliver(b, compute(b));
  } else if (rank_ == 0) {
    run_root(blocks, compute, deliver);  // settles before it throws
  } else {
    run_worker(compute);
  }
  settled_ = true;
}

void Executor::run_worker(const Compute& compute) {
  send(comm_, 0, tag_of(kAsk, runs_), {});
  for (;;) {
    // The answer to the last kAsk: usually already here, as it was asked for while the block before ran.
    // Rank 0 only sends kWork (a range, 16 bytes) or kStop (empty).
    std::uint64_t r[2] = {0, 0};
    MPI_Request req;
    MPI_Status st;
    check(MPI_Irecv(r, 16, MPI_BYTE, 0, MPI_ANY_TAG, comm_, &req), "MPI_Irecv");
    wait_politely(req, &st);
    if (kind_of(st.MPI_TAG) == kStop) return;
    const PointBlock b{static_cast<std::size_t>(r[0]), static_cast<std::size_t>(r[1])};
    // Ask for the next block now: rank 0 may be pausing between its probes, and its answer should not
    // keep this rank waiting once b is done.
    send(comm_, 0, tag_of(kAsk, runs_), {});
    std::string reply;
    Tag tag = kResult;
    try {
      reply = with_range(b, compute(b));
      if (reply.size() > static_cast<std::size_t>(INT_MAX))
        throw DynlibError("the block's results are larger than 2 GiB (use smaller blocks)");
    } catch (const std::exception& e) {
      reply = with_range(b, e.what());
      tag = kFail;
    }
    send(comm_, 0, tag_of(tag, runs_), reply);  // after a failure, the pending kAsk is answered with kStop
  }
}

void Executor::run_root(const std::vector<PointBlock>& blocks, const Compute& compute,
                        const Deliver& deliver) {
  // Shared between this thread (MPI, delivery) and the thread that computes rank 0's own blocks.
  std::mutex mu;
  std::size_t next = 0;
  bool stopping = false, local_done = false;
  std::deque<std::pair<PointBlock, std::string>> local_results;
  std::optional<std::string> failure;  // the first failure, as reported
  using Clock = std::chrono::steady_clock;
  Clock::duration shortest_block = Clock::duration::max();  // seen so far, on any rank
  const auto fail = [&](std::string why) {                  // with mu held
    if (!failure) failure = std::move(why);
    stopping = true;
  };
  std::thread local([&] {
    for (;;) {
      PointBlock b;
      {
        std::lock_guard<std::mutex> lk(mu);
        if (stopping || next == blocks.size()) break;
        b = blocks[next++];
      }
      try {
        const auto start = Clock::now();
        std::string bytes = compute(b);
        const auto took = Clock::now() - start;
        std::lock_guard<std::mutex> lk(mu);
        local_results.emplace_back(b, std::move(bytes));
        shortest_block = std::min(shortest_block, took);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lk(mu);
        fail("rank 0 failed on " + points_text(b) + ": " + e.what());
        break;
      }
    }
    std::lock_guard<std::mutex> lk(mu);
    local_done = true;
  });
  int active = size_ - 1;       // workers not yet told to stop
  std::size_t outstanding = 0;  // blocks handed out whose result has not come back
  const auto workers = static_cast<std::size_t>(size_);
  std::vector<std::optional<Clock::time_point>> last_result(workers);
  std::vector<int> held(workers, 0);      // per worker: blocks handed out, result not back
  std::vector<char> stopped(workers, 0);  // per worker: told to stop
  std::vector<Clock::time_point> due(workers, Clock::now());  // per worker: its next message, earliest
  const auto hand_out = [&](int to) {                         // the next block, or stop
    std::optional<PointBlock> b;
    {
      std::lock_guard<std::mutex> lk(mu);
      if (!stopping && next < blocks.size()) b = blocks[next++];
    }
    if (b) {
      send(comm_, to, tag_of(kWork, runs_), with_range(*b, {}));
      ++outstanding;
      ++held[static_cast<std::size_t>(to)];
    } else {
      send(comm_, to, tag_of(kStop, runs_), {});
      --active;
      stopped[static_cast<std::size_t>(to)] = 1;
    }
  };
  const auto deliver_safely = [&](PointBlock b, std::string&& bytes) {
    {
      std::lock_guard<std::mutex> lk(mu);
      if (stopping) return;
    }
    try {
      deliver(b, std::move(bytes));
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lk(mu);
      fail(std::string("writing the results of ") + points_text(b) + " failed: " + e.what());
    }
  };
  // Rank 0 pauses while no message arrives, longer the longer it stays quiet: from 20 us, 4x at each
  // wake-up, up to 1 ms while a worker's message may be due, up to 8 ms while none can be. A worker's
  // next result cannot come before the shortest block seen so far has passed since its last one, and a
  // large result waits in the worker's send until rank 0 receives it, so it must be taken within about
  // 1 ms; the worker's requests for work need no hurry (it holds a block in reserve). Each wake-up costs
  // some 30 us of CPU. Rank 0's own results are delivered without resetting the pauses.
  constexpr auto kFirstPause = std::chrono::microseconds(20);
  constexpr auto kPauseWhileDue = std::chrono::microseconds(1000);
  constexpr auto kLongestPause = std::chrono::microseconds(8000);
  auto idle_wait = std::chrono::microseconds(kFirstPause);
  try {
    for (;;) {
      bool busy = false, messaged = false;
      std::optional<std::pair<PointBlock, std::string>> mine;
      auto shortest = Clock::duration::max();
      {
        std::lock_guard<std::mutex> lk(mu);
        if (!local_results.empty()) {
          mine = std::move(local_results.front());
          local_results.pop_front();
        } else if (local_done && active == 0 && outstanding == 0) {
          break;
        }
        shortest = shortest_block;
      }
      if (mine) {
        deliver_safely(mine->first, std::move(mine->second));
        busy = true;
      }
      if (active > 0 || outstanding > 0) {
        int flag = 0;
        MPI_Status st;
        for (Tag kind : {kResult, kFail, kAsk}) {
          check(MPI_Iprobe(MPI_ANY_SOURCE, tag_of(kind, runs_), comm_, &flag, &st), "MPI_Iprobe");
          if (flag) break;
        }
        if (flag) {
          busy = messaged = true;
          std::string msg = receive(comm_, st);
          const Tag kind = kind_of(st.MPI_TAG);
          const auto from = static_cast<std::size_t>(st.MPI_SOURCE);
          if (kind == kAsk) {
            hand_out(st.MPI_SOURCE);
          } else {
            if (held[from] > 0) --held[from];
            const PointBlock b = range_of(msg);
            if (outstanding == 0) throw DynlibError("MPI: a result for a block that was not handed out");
            --outstanding;
            const auto now = Clock::now();  // the time between a worker's results: about a block's
            auto& last = last_result[from];
            if (last) {
              std::lock_guard<std::mutex> lk(mu);
              shortest_block = std::min(shortest_block, now - *last);
              shortest = shortest_block;
            }
            last = now;
            if (kind == kResult) {
              deliver_safely(b, msg.substr(16));
            } else {
              std::lock_guard<std::mutex> lk(mu);
              fail("rank " + std::to_string(st.MPI_SOURCE) + " failed on " + points_text(b) + ": " +
                   msg.substr(16));
            }
          }
          const auto now = Clock::now();
          if (stopped[from] && held[from] == 0)
            due[from] = Clock::time_point::max();  // nothing more from it in this run
          else
            due[from] = shortest == Clock::duration::max() ? now : now + shortest;
        }
      }
      if (messaged) {
        idle_wait = kFirstPause;
      } else if (!busy) {
        std::this_thread::sleep_for(idle_wait);
        const auto now = Clock::now();
        const auto earliest = *std::min_element(due.begin() + 1, due.end());
        auto cap = kPauseWhileDue;
        if (earliest == Clock::time_point::max())
          cap = kLongestPause;
        else if (earliest > now + kPauseWhileDue)
          cap =
              std::min(kLongestPause, std::chrono::duration_cast<std::chrono::microseconds>(earliest - now));
        idle_wait = std::min(4 * idle_wait, cap);
      }
    }
  } catch (...) {
    // MPI itself failed on rank 0: nothing can stop the others cleanly any more.
    {
      std::lock_guard<std::mutex> lk(mu);
      stopping = true;
    }
    local.join();
    throw;
  }
  local.join();
  if (failure) {
    settled_ = true;
    throw DynlibError("MPI run stopped: " + *failure);
  }
}

}  // namespace dynlib::mpi
