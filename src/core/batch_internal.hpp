// Pieces of run_batch (batch.cpp) that the streamed sweep files (sweep_file.cpp) reuse.
#pragma once
#include <dynlib/batch.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/compiled_model.hpp"

namespace dynlib::core {

// Checks the options against the model (ArgumentError) and returns an empty result with the column names.
BatchResults batch_columns(const FullModelPtr& fm, const BatchOptions& o);
// ArgumentError for a state or parameter name the model does not have.
void check_item_names(const FullModelPtr& fm, const std::vector<BatchItem>& items);
// Workers for `n` items: options.threads (0: one per core), at most n, at least 1.
unsigned batch_threads(const BatchOptions& o, std::size_t n);
// One point through Sim::run (errors become BatchRun::error).
void run_point(const FullModelPtr& fm, const BatchOptions& o, const BatchItem& item,
               std::optional<std::int64_t> cap_rec, BatchRun& out);
// The lane runner the batch uses (batch_lanes.cpp): null when the points run scalar (options.lanes == 1,
// options the lane runner does not do, a model/stepper that does not run in lanes, the interpreter, or,
// with options.lanes == 0, a CPU without AVX2). ArgumentError for a lanes value other than 0, 1, 4.
std::shared_ptr<const kernels::LaneRunner> batch_lane_runner(const FullModelPtr& fm, const BatchOptions& o);
// items[first, last) (at most kernels::kLanes points) in the lanes of one core; each BatchRun is the one
// run_point gives (a pack that cannot share the lanes runs point by point).
void run_pack(const FullModelPtr& fm, const kernels::LaneRunner& lr, const BatchOptions& o,
              const std::vector<BatchItem>& items, std::size_t first, std::size_t last,
              std::optional<std::int64_t> cap_rec, std::vector<BatchRun>& runs);
// Runs the items on this process's thread pool (options.executor is not used), in item order; in SIMD
// lanes when batch_lane_runner() gives a lane runner.
std::vector<BatchRun> run_items(const FullModelPtr& fm, const BatchOptions& o,
                                const std::vector<BatchItem>& items);

// BatchRuns as bytes between processes of one executor (same build, same machine type).
void encode_runs(std::string& out, const std::vector<BatchRun>& runs);
// Throws DynlibError if `bytes` is not what encode_runs wrote.
std::vector<BatchRun> decode_runs(std::string_view bytes);

}  // namespace dynlib::core
