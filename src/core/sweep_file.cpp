// sweep_to_csv (include/dynlib/batch.hpp): a sweep streamed to a CSV file block by block, resumable,
// optionally one shard of it, on this process's thread pool or an executor's processes.
#include <xxhash.h>

#include <chrono>
#include <cstring>
#include <dynlib/batch.hpp>
#include <dynlib/errors.hpp>
#include <dynlib/sim.hpp>
#include <map>

#include "core/analysis.hpp"
#include "core/batch_internal.hpp"
#include "core/sweep_journal.hpp"
#include "core/sweep_lock.hpp"
#include "core/sweep_rows.hpp"
#include "kernels/observer.hpp"
#include "util/output_file.hpp"
#include "util/text.hpp"

namespace dynlib {

BatchExecutor::~BatchExecutor() = default;

void LocalExecutor::run(const std::vector<PointBlock>& blocks, const Compute& compute,
                        const Deliver& deliver) {
  for (const auto& b : blocks) deliver(b, compute(b));
}

namespace {

std::string hex64(std::uint64_t v) {
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(v));
  return b;
}

// Exact text of a double (round trip), for the sweep's identity.
std::string exact(double v) { return util::shortest_double(v); }

// What makes two runs the same sweep: the model, the stepper, every option that changes a number or a
// column. Threads and the executor change neither, so they are not part of it.
std::string sweep_key(const FullModel& fm, const std::vector<SweepAxis>& axes, const BatchOptions& o,
                      const BatchItem& base) {
  std::string k = "model=" + fm.model_hash() + ";stepper=" + fm.compiled().stepper().name;
  for (const auto& a : axes) {
    std::string vals;
    for (double v : a.values) vals += exact(v) + ',';
    k += ";axis=" + a.param + ":" + std::to_string(a.values.size()) + ":" +
         hex64(XXH3_64bits(vals.data(), vals.size()));
  }
  for (const auto& [n, v] : base.ic) k += ";ic." + n + "=" + exact(v);
  for (const auto& [n, v] : base.params) k += ";param." + n + "=" + exact(v);
  const auto opt = [&](const char* n, const auto& v) {
    if (v) k += std::string(";") + n + "=" + exact(static_cast<double>(*v));
  };
  opt("T", o.T);
  opt("N", o.N);
  opt("dt", o.dt);
  opt("t0", o.t0);
  k += ";transient=" + exact(o.transient) + ";record=" + std::to_string(o.record) +
       ";record_interval=" + std::to_string(o.record_interval) +
       ";record_last=" + std::to_string(o.record_last);
  if (o.record_vars)
    for (const auto& v : *o.record_vars) k += ";record_var=" + v;
  opt("max_steps", o.max_steps);
  for (const auto& [n, v] : o.stepper) k += ";set." + n + "=" + (v.is_name() ? v.name : exact(v.number));
  if (!o.observers.empty()) k += ";observers=" + analysis_signature(o.observers, fm);
  return k;
}

// The item of point `p` (row-major over the axes): base, then the axis values.
BatchItem point_item(const std::vector<SweepAxis>& axes, const BatchItem& base, std::size_t p) {
  const std::size_t ny = axes.size() > 1 ? axes[1].values.size() : 1;
  BatchItem it = base;
  it.params.emplace_back(axes[0].param, axes[0].values[p / ny]);
  if (axes.size() > 1) it.params.emplace_back(axes[1].param, axes[1].values[p % ny]);
  return it;
}

// Why a point is not ok(), as `dynlib sweep` prints it.
std::string failure_text(const std::vector<SweepAxis>& axes, std::size_t p, const BatchRun& r) {
  if (!r.error.empty()) return r.error;
  const std::size_t ny = axes.size() > 1 ? axes[1].values.size() : 1;
  std::string at = "at " + axes[0].param + "=" + util::shortest_double(axes[0].values[p / ny]);
  if (axes.size() > 1) at += ", " + axes[1].param + "=" + util::shortest_double(axes[1].values[p % ny]);
  // It did not raise but stopped short of the horizon (MAX_STEPS, RECORD_LIMIT, ...).
  return at + ": stopped with status " + status_name(r.status) + " at t=" + util::shortest_double(r.t_final) +
         " after " + std::to_string(r.steps) + " steps";
}

// A computed block as bytes: failed count, kept messages, rows.
struct BlockText {
  std::size_t failed = 0;
  std::vector<std::string> messages;
  std::string rows;
};

void put_u64(std::string& s, std::uint64_t v) { s.append(reinterpret_cast<const char*>(&v), sizeof v); }
std::uint64_t get_u64(std::string_view& s) {
  if (s.size() < 8) throw DynlibError("sweep block from another process is truncated");
  std::uint64_t v;
  std::memcpy(&v, s.data(), 8);
  s.remove_prefix(8);
  return v;
}
std::string get_str(std::string_view& s) {
  const auto n = get_u64(s);
  if (n > s.size()) throw DynlibError("sweep block from another process is truncated");
  std::string r(s.substr(0, n));
  s.remove_prefix(n);
  return r;
}

std::string encode(const BlockText& b) {
  std::string s;
  put_u64(s, b.failed);
  put_u64(s, b.messages.size());
  for (const auto& m : b.messages) put_u64(s, m.size()), s += m;
  put_u64(s, b.rows.size());
  return s + b.rows;
}

BlockText decode(std::string_view s) {
  BlockText b;
  b.failed = get_u64(s);
  const auto n = get_u64(s);
  if (n > core::SweepJournal::kKeptMessages) throw DynlibError("sweep block from another process is corrupt");
  for (std::uint64_t k = 0; k < n; ++k) b.messages.push_back(get_str(s));
  b.rows = get_str(s);
  return b;
}

std::string shard_line(const SweepFileOptions& fo, std::size_t first, std::size_t last, std::size_t total,
                       const std::string& sweep_id) {
  return "# dynlib sweep shard " + std::to_string(fo.shard_index) + "/" + std::to_string(fo.shard_count) +
         ": points " + std::to_string(first) + "-" + std::to_string(last) + " of " + std::to_string(total) +
         ", sweep " + sweep_id + "\n";
}

std::string shard_trailer(std::uint64_t bytes, std::uint64_t hash) {
  return "# end of shard: " + std::to_string(bytes) + " bytes, xxh3 " + hex64(hash) + "\n";
}

}  // namespace

SweepFileSummary sweep_to_csv(const FullModelPtr& fm, const std::vector<SweepAxis>& axes,
                              const BatchOptions& o, const BatchItem& base, const std::filesystem::path& path,
                              const SweepFileOptions& fo) {
  const auto t_start = std::chrono::steady_clock::now();
  if (axes.empty() || axes.size() > 2) throw ArgumentError("sweep: give one or two axes");
  if (axes.size() == 2 && axes[0].param == axes[1].param)
    throw ArgumentError("sweep: the two axes sweep the same parameter");
  for (const auto& a : axes)
    if (a.values.empty()) throw ArgumentError("sweep: axis '" + a.param + "' has no values");
  if (fo.shard_count > 0 && fo.shard_index >= fo.shard_count)
    throw ArgumentError("sweep: shard " + std::to_string(fo.shard_index) + " of " +
                        std::to_string(fo.shard_count) + " does not exist (shards are numbered 0 to " +
                        std::to_string(fo.shard_count - 1) + ")");
  const BatchResults names = core::batch_columns(fm, o);
  core::check_item_names(fm, {point_item(axes, base, 0)});
  SweepFileSummary sum;
  sum.nx = axes[0].values.size();
  sum.ny = axes.size() > 1 ? axes[1].values.size() : 1;
  const std::size_t total = sum.nx * sum.ny;
  if (total / sum.ny != sum.nx) throw ArgumentError("sweep: too many points");
  std::size_t first = 0, last = total;
  if (fo.shard_count > 0) {
    if (fo.shard_count > total)
      throw ArgumentError("sweep: " + std::to_string(fo.shard_count) + " shards for " +
                          std::to_string(total) + " points (at most one shard per point)");
    // Contiguous ranges, so joining the shards in order gives the rows in order.
    first = shard_start(total, fo.shard_index, fo.shard_count);
    last = shard_start(total, fo.shard_index + 1, fo.shard_count);
  }
  sum.points = last - first;
  if (core::batch_lane_runner(fm, o)) sum.lanes = static_cast<unsigned>(kernels::kLanes);
  sum.threads = core::batch_threads(o, (sum.points + sum.lanes - 1) / sum.lanes);
  BatchExecutor* ex = o.executor;
  LocalExecutor local;
  if (!ex) ex = &local;
  sum.processes = ex->processes();
  sum.root = ex->is_root();

  core::SweepColumns cols;
  for (const auto& a : axes) cols.axis_names.push_back(a.param);
  cols.state_names = names.state_names;
  cols.record_names = names.record_names;
  cols.event_names = names.event_names;
  cols.stopped_by = names.terminal_events;
  if (!o.observers.empty() && !cols.series()) {
    const auto layout = kernels::analysis_layout(core::analysis_spec(o.observers, fm->model()), fm->model(),
                                                 fm->compiled().stepper());
    for (const auto& s : layout.slots)
      for (const auto& n : s.output_names) cols.observer_cols.push_back(s.key + '.' + n);
  }

  BatchOptions run_opt = o;
  run_opt.executor = nullptr;
  const auto compute = [&](PointBlock b) {
    std::vector<BatchItem> items;
    items.reserve(b.last - b.first);
    for (std::size_t p = b.first; p < b.last; ++p) items.push_back(point_item(axes, base, p));
    const auto runs = core::run_items(fm, run_opt, items);
    BlockText t;
    for (std::size_t k = 0; k < runs.size(); ++k) {
      const std::size_t p = b.first + k;
      core::append_point_rows(t.rows, cols, core::sweep_row_prefix(axes, p / sum.ny, p % sum.ny), runs[k]);
      if (runs[k].ok()) continue;
      if (t.messages.size() < core::SweepJournal::kKeptMessages)
        t.messages.push_back(failure_text(axes, p, runs[k]));
      ++t.failed;
    }
    return encode(t);
  };

  if (!sum.root) {  // compute what the root hands out; the file is the root's
    ex->run({}, compute, [](PointBlock, std::string&&) {});
    return sum;
  }

  std::unique_ptr<core::SweepLock> lock;  // held until the file is finished: one writer per file
  std::unique_ptr<core::SweepJournal> journal;
  try {
    try {
      util::check_output_path(path);
    } catch (const util::FileWriteError& e) {
      throw DynlibError("Cannot write '" + path.string() + "': " + e.reason());
    }
    lock = std::make_unique<core::SweepLock>(path);
    const std::string key = sweep_key(*fm, axes, o, base);
    std::string preamble;
    if (fo.shard_count > 0)
      preamble = shard_line(fo, first, last, total, hex64(XXH3_64bits(key.data(), key.size())));
    preamble += core::sweep_csv_header(cols);
    const std::string jkey =
        key + ";shard=" + std::to_string(fo.shard_index) + "/" + std::to_string(fo.shard_count);
    journal = std::make_unique<core::SweepJournal>(
        path, core::JournalIdentity{jkey, fo.command.empty() ? "sweep_to_csv (C++)" : fo.command}, preamble,
        first, last);
  } catch (...) {
    ex->run({}, compute, [](PointBlock, std::string&&) {});  // the others stop instead of waiting for work
    throw;
  }
  sum.resumed = journal->next_point() - first;
  if (fo.done) fo.done->store(sum.resumed);

  std::size_t block = fo.block;
  if (block == 0) {  // whole packs of SIMD lanes, at least 4 per thread
    block = std::max<std::size_t>(4 * sum.threads * sum.lanes, (sum.points + 99) / 100);
    block = (block + sum.lanes - 1) / sum.lanes * sum.lanes;
  }
  std::vector<PointBlock> blocks;
  for (std::size_t a = journal->next_point(); a < last; a += block)
    blocks.push_back({a, std::min(last, a + block)});
  // Blocks arrive in any order; they are written in point order, so the file is always a prefix. Contiguous
  // blocks are gathered and saved together at most every checkpoint_seconds (each save costs two syncs).
  std::map<std::size_t, std::pair<std::size_t, BlockText>> waiting;
  BlockText gathered;
  std::size_t gathered_first = journal->next_point(), gathered_last = gathered_first;
  auto last_save = std::chrono::steady_clock::now();
  const auto save = [&] {
    if (gathered_last == gathered_first) return;
    journal->append(gathered_first, gathered_last, gathered.rows, gathered.failed, gathered.messages);
    gathered = BlockText();
    gathered_first = gathered_last;
    last_save = std::chrono::steady_clock::now();
  };
  ex->run(blocks, compute, [&](PointBlock b, std::string&& bytes) {
    waiting.emplace(b.first, std::make_pair(b.last, decode(bytes)));
    for (auto it = waiting.find(gathered_last); it != waiting.end(); it = waiting.find(gathered_last)) {
      auto& [end, t] = it->second;
      gathered.rows += t.rows;
      gathered.failed += t.failed;
      for (auto& m : t.messages)
        if (gathered.messages.size() < core::SweepJournal::kKeptMessages)
          gathered.messages.push_back(std::move(m));
      if (fo.done) fo.done->fetch_add(end - gathered_last);
      gathered_last = end;
      waiting.erase(it);
    }
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - last_save).count() >=
            fo.checkpoint_seconds ||
        gathered.rows.size() >= (std::size_t{64} << 20))
      save();
  });
  save();
  const std::string trailer =
      fo.shard_count > 0 ? shard_trailer(journal->hashed_size(), journal->data_hash()) : std::string();
  journal->finish(trailer);
  sum.failed = journal->failed();
  sum.failures = journal->failures();
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return sum;
}

}  // namespace dynlib
