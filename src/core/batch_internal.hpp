// Pieces of run_batch (batch.cpp) that the streamed sweep files (sweep_file.cpp) reuse.
#pragma once
#include <dynlib/batch.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dynlib::core {

// Checks the options against the model (ArgumentError) and returns an empty result with the column names.
BatchResults batch_columns(const FullModelPtr& fm, const BatchOptions& o);
// ArgumentError for a state or parameter name the model does not have.
void check_item_names(const FullModelPtr& fm, const std::vector<BatchItem>& items);
// Workers for `n` items: options.threads (0: one per core), at most n, at least 1.
unsigned batch_threads(const BatchOptions& o, std::size_t n);
// Runs the items on this process's thread pool (options.executor is not used), in item order.
std::vector<BatchRun> run_items(const FullModelPtr& fm, const BatchOptions& o,
                                const std::vector<BatchItem>& items);

// BatchRuns as bytes between processes of one executor (same build, same machine type).
void encode_runs(std::string& out, const std::vector<BatchRun>& runs);
// Throws DynlibError if `bytes` is not what encode_runs wrote.
std::vector<BatchRun> decode_runs(std::string_view bytes);

}  // namespace dynlib::core
