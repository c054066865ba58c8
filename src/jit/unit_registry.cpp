// The two process-wide unit registries (unit_registry.hpp).
#include "jit/unit_registry.hpp"

namespace dynlib::jit {

Registry<TieredUnit>& base_registry() {
  static auto* r = new Registry<TieredUnit>();  // never destroyed (code may run until exit)
  return *r;
}
Registry<AnalysisGenerated>& analysis_registry() {
  static auto* r = new Registry<AnalysisGenerated>();
  return *r;
}

}  // namespace dynlib::jit
