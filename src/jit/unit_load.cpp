// Units loaded from the object files of a disk cache entry (unit_load.hpp).
#include "jit/unit_load.hpp"

#include <chrono>

#include "dynlib/errors.hpp"
#include "jit/object_cache.hpp"
#include "jit/orc_engine.hpp"

namespace dynlib::jit {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::vector<Component> unpack_components(const std::string& bytes) {
  std::vector<std::string> items;
  if (!unpack_strings(bytes, items)) throw JitError("cached unit: bad component table");
  std::vector<Component> out;
  for (const auto& it : items) {
    std::vector<std::string> f;
    if (!unpack_strings(it, f) || f.size() != 4) throw JitError("cached unit: bad component record");
    Component c;
    c.name = f[0];
    c.file = f[1];
    c.signature = f[2];
    if (!unpack_strings(f[3], c.symbols)) throw JitError("cached unit: bad component symbols");
    out.push_back(std::move(c));
  }
  return out;
}

const std::string& part(const UnitPayload& p, const char* name) {
  auto it = p.parts.find(name);
  if (it == p.parts.end()) throw JitError(std::string("cached unit: no part '") + name + "'");
  return it->second;
}

}  // namespace

std::string pack_components(const std::vector<Component>& cs) {
  std::vector<std::string> items;
  for (const auto& c : cs)
    items.push_back(pack_strings({c.name, c.file, c.signature, pack_strings(c.symbols)}));
  return pack_strings(items);
}

// A unit from its cached objects: no IR, no optimisation, no codegen; JITLink links on first lookup.
Generated load_unit(const std::string& payload, const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                    const std::string& digest) {
  const auto t0 = Clock::now();
  UnitPayload p;
  if (std::string e = p.decode(payload); !e.empty()) throw JitError("cached unit: " + e);
  Generated g;
  g.unit_name = "dynlib:" + model.hash.hex() + ":" + stepper.name + ":cached-" + digest.substr(0, 12);
  g.components = unpack_components(part(p, "components"));
  g.bitcode = part(p, "bitcode");
  g.unit = OrcEngine::instance().create_unit(g.unit_name);
  g.unit->add_object_bytes(part(p, "hot.o"), g.unit_name + ":hot.o");
  g.unit->add_object_bytes(part(p, "cold.o"), g.unit_name + ":cold.o");
  std::vector<std::string> names = {"rhs", "update_aux", "runner"};
  if (model.exact_jacobian()) names.push_back("jacobian");
  if (model.inverse) names.push_back("inverse");
  const std::vector<void*> at = g.unit->lookup_all(names);  // one lookup: links the hot object
  auto& F = g.fns;
  F.rhs = reinterpret_cast<NativeFns::BlockFn>(at[0]);
  F.update_aux = reinterpret_cast<NativeFns::AuxFn>(at[1]);
  F.runner = reinterpret_cast<NativeFns::RunnerFn>(at[2]);
  std::size_t k = 3;
  if (model.exact_jacobian()) F.jacobian = reinterpret_cast<NativeFns::BlockFn>(at[k++]);
  if (model.inverse) F.inverse = reinterpret_cast<NativeFns::BlockFn>(at[k++]);
  g.timings.codegen_link_ms = g.timings.total_ms = ms_since(t0);
  return g;
}

AnalysisGenerated load_analysis(const std::string& payload, const ir::ModelIR& model,
                                const kernels::StepperInfo& stepper, const std::string& digest,
                                const char* symbol) {
  const auto t0 = Clock::now();
  UnitPayload p;
  if (std::string e = p.decode(payload); !e.empty()) throw JitError("cached unit: " + e);
  AnalysisGenerated g;
  const std::string name =
      "dynlib:" + model.hash.hex() + ":" + stepper.name + ":" + symbol + "-cached-" + digest.substr(0, 12);
  g.bitcode = part(p, "bitcode");
  g.unit = OrcEngine::instance().create_unit(name);
  g.unit->add_object_bytes(part(p, "runner.o"), name + ":runner.o");
  g.runner = reinterpret_cast<NativeFns::RunnerFn>(g.unit->lookup(symbol));
  g.timings.codegen_link_ms = g.timings.total_ms = ms_since(t0);
  return g;
}

}  // namespace dynlib::jit
