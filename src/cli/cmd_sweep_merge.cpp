// dynlib sweep-merge --out FILE SHARD... : shard files of one sweep joined into its CSV
// (docs/distributed.md).
#include <cstdio>
#include <dynlib/batch.hpp>
#include <string>

#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/output_paths.hpp"

namespace dynlib::cli {
namespace {

const char* kUsage =
    "usage: dynlib sweep-merge --out FILE SHARD [SHARD ...]\n"
    "  Joins the shard files written by 'dynlib sweep ... --shard K/N --out SHARD' (any order, all N of "
    "them)\n"
    "  into FILE: the same bytes as one 'dynlib sweep' of all points. Refuses shards of different sweeps, a\n"
    "  missing or repeated shard, and a shard that is incomplete or was changed.\n";

}  // namespace

int cmd_sweep_merge(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  const auto p = parse_args(args, {"out"});
  if (!p.get("out")) throw UsageError(std::string("--out FILE is required\n") + kUsage);
  if (p.positional.empty()) throw UsageError(std::string("expected the shard files\n") + kUsage);
  check_output_paths({{"--out", *p.get("out")}});
  std::vector<std::filesystem::path> shards(p.positional.begin(), p.positional.end());
  merge_sweep_shards(shards, *p.get("out"));
  std::printf("sweep-merge: %zu shards -> %s\n", shards.size(), p.get("out")->c_str());
  return 0;
}

}  // namespace dynlib::cli
