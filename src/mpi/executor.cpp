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

namespace dynlib::mpi {
namespace {

// Message kinds. Worker -> rank 0: kAsk (ready for work), kResult (first, last, bytes), kFail (first,
// last, why). Rank 0 -> worker: kWork (first, last), kStop. The tag is kind + 8 * (run number mod 4000):
// a worker that was told to stop may already ask for work of the next run() while rank 0 still waits for
// the others in this one, and rank 0 must not take that message for this run.
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
    // Rank 0 only sends kWork (a range, 16 bytes) or kStop (empty).
    std::uint64_t r[2] = {0, 0};
    MPI_Request req;
    MPI_Status st;
    check(MPI_Irecv(r, 16, MPI_BYTE, 0, MPI_ANY_TAG, comm_, &req), "MPI_Irecv");
    wait_politely(req, &st);
    if (kind_of(st.MPI_TAG) == kStop) return;
    const PointBlock b{static_cast<std::size_t>(r[0]), static_cast<std::size_t>(r[1])};
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
    send(comm_, 0, tag_of(tag, runs_), reply);  // a failure is answered with kStop
  }
}

void Executor::run_root(const std::vector<PointBlock>& blocks, const Compute& compute,
                        const Deliver& deliver) {
  // Shared between this thread (MPI, delivery) and the thread that computes rank 0's own blocks.
  std::mutex mu;
  std::size_t next = 0;
  bool stopping = false, local_done = false;
  std::deque<std::pair<PointBlock, std::string>> local_results;
  std::optional<std::string> failure;       // the first failure, as reported
  const auto fail = [&](std::string why) {  // with mu held
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
        std::string bytes = compute(b);
        std::lock_guard<std::mutex> lk(mu);
        local_results.emplace_back(b, std::move(bytes));
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lk(mu);
        fail("rank 0 failed on " + points_text(b) + ": " + e.what());
        break;
      }
    }
    std::lock_guard<std::mutex> lk(mu);
    local_done = true;
  });
  int active = size_ - 1;              // workers not yet told to stop
  const auto hand_out = [&](int to) {  // the next block, or stop
    std::optional<PointBlock> b;
    {
      std::lock_guard<std::mutex> lk(mu);
      if (!stopping && next < blocks.size()) b = blocks[next++];
    }
    if (b) {
      send(comm_, to, tag_of(kWork, runs_), with_range(*b, {}));
    } else {
      send(comm_, to, tag_of(kStop, runs_), {});
      --active;
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
  auto idle_wait = std::chrono::microseconds(20);
  try {
    for (;;) {
      bool busy = false;
      std::optional<std::pair<PointBlock, std::string>> mine;
      {
        std::lock_guard<std::mutex> lk(mu);
        if (!local_results.empty()) {
          mine = std::move(local_results.front());
          local_results.pop_front();
        } else if (local_done && active == 0) {
          break;
        }
      }
      if (mine) {
        deliver_safely(mine->first, std::move(mine->second));
        busy = true;
      }
      if (active > 0) {
        int flag = 0;
        MPI_Status st;
        for (Tag kind : {kResult, kFail, kAsk}) {
          check(MPI_Iprobe(MPI_ANY_SOURCE, tag_of(kind, runs_), comm_, &flag, &st), "MPI_Iprobe");
          if (flag) break;
        }
        if (flag) {
          busy = true;
          std::string msg = receive(comm_, st);
          if (kind_of(st.MPI_TAG) == kResult) {
            const PointBlock b = range_of(msg);
            deliver_safely(b, msg.substr(16));
          } else if (kind_of(st.MPI_TAG) == kFail) {
            const PointBlock b = range_of(msg);
            std::lock_guard<std::mutex> lk(mu);
            fail("rank " + std::to_string(st.MPI_SOURCE) + " failed on " + points_text(b) + ": " +
                 msg.substr(16));
          }
          hand_out(st.MPI_SOURCE);
        }
      }
      // Nothing arrived: wait rather than spin, longer the longer it stays quiet (up to 1 ms, far less
      // than a block takes), so polling costs next to nothing while every rank computes.
      if (busy) {
        idle_wait = std::chrono::microseconds(20);
      } else {
        std::this_thread::sleep_for(idle_wait);
        idle_wait = std::min(2 * idle_wait, std::chrono::microseconds(1000));
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
