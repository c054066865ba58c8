// Code generation of the lane runner (kernels/runner_lanes.hpp): a scalar LlvmBackend and a lane
// LlvmBackend (kLanes doubles per Val) share one IR builder in the function `runner_lanes`.
#include <cstddef>
#include <stdexcept>

#include "dynlib/errors.hpp"
#include "jit/codegen.hpp"
#include "jit/llvm_backend.hpp"
#include "kernels/lane_abi.hpp"
#include "kernels/runner_lanes.hpp"
#include "kernels/steppers.hpp"

namespace dynlib::jit {
namespace {

using kernels::kLanes;
using kernels::LaneRunnerArgs;

#define DYN_LOFF(field) static_cast<std::uint64_t>(offsetof(LaneRunnerArgs, field))

llvm::Value* field_ptr(LlvmBackend& b, llvm::Value* args, std::uint64_t off) {
  return b.ir().CreateConstInBoundsGEP1_64(b.ir().getInt8Ty(), args, off);
}
LVal ld_f64(LlvmBackend& b, llvm::Value* args, std::uint64_t off) {
  return b.val(b.ir().CreateLoad(b.gen().f64(), field_ptr(b, args, off)));
}
LInt ld_i64(LlvmBackend& b, llvm::Value* args, std::uint64_t off) {
  return b.ival(b.ir().CreateLoad(b.gen().i64(), field_ptr(b, args, off)));
}
llvm::Value* ld_ptr(LlvmBackend& b, llvm::Value* args, std::uint64_t off) {
  return b.ir().CreateLoad(b.gen().ptr(), field_ptr(b, args, off));
}

// A lane-interleaved buffer of n elements: small models work on a local copy (registers after SROA),
// as the scalar runner does (codegen.cpp localize); `copy_back` says whether the host reads it after.
struct LocalLanes {
  llvm::Value* local;
  llvm::Value* host;
  std::int64_t n;
  bool copy_back;
};

void emit_lane_runner(ModuleGen& g, const kernels::StepperInfo& s) {
  auto* ty = llvm::FunctionType::get(llvm::Type::getVoidTy(g.ctx), {g.ptr()}, false);
  auto* f = g.new_function("runner_lanes", ty);
  LlvmBackend sb(g, f);
  LlvmBackend lb(g, f, kLanes, &sb);
  llvm::Value* args = f->getArg(0);
  const auto& m = g.model;
  const auto n_state = static_cast<std::int64_t>(m.n_states());
  const std::int64_t ws_size = s.ws_size ? s.ws_size(n_state) : 0;

  kernels::LaneView<LlvmBackend, LlvmBackend> v;
  v.t_end = ld_f64(sb, args, DYN_LOFF(t_end));
  v.step_end = ld_i64(sb, args, DYN_LOFF(step_end));
  v.record_interval = ld_i64(sb, args, DYN_LOFF(record_interval));
  v.t_base = ld_f64(sb, args, DYN_LOFF(t_base));
  v.step_base = ld_i64(sb, args, DYN_LOFF(step_base));
  v.dt_nominal = ld_f64(sb, args, DYN_LOFF(dt_nominal));
  v.y_curr = lb.arr(ld_ptr(sb, args, DYN_LOFF(y_curr)), sY);
  v.y_prev = lb.arr(ld_ptr(sb, args, DYN_LOFF(y_prev)), sYprev);
  v.params = lb.arr(ld_ptr(sb, args, DYN_LOFF(params)), sP);
  v.ws = lb.arr(ld_ptr(sb, args, DYN_LOFF(ws)), sWs);
  v.y_prop = lb.arr(ld_ptr(sb, args, DYN_LOFF(y_prop)), sYprop);
  auto lane_array = [&](std::int64_t n, const char* name) {
    auto* at = llvm::ArrayType::get(g.f64(), static_cast<std::uint64_t>((n > 0 ? n : 1) * kLanes));
    return lb.arr(lb.entry_alloca(at, name), sScratch);
  };
  v.keep_y = lane_array(n_state, "keep_y");
  v.keep_y_prev = lane_array(n_state, "keep_y_prev");
  std::vector<LocalLanes> locals;
  if (n_state > 0 && n_state <= g.local_state_max && lb.unroll(static_cast<int>(n_state))) {
    auto localize = [&](LArr& field, std::int64_t n, const char* name, bool copy_back) {
      if (n <= 0) return;
      auto local = lane_array(n, name);
      for (std::int64_t k = 0; k < n; ++k) local[k] = field[k];
      locals.push_back({local.base, field.base, n, copy_back});
      field = lb.arr(local.base, field.scope);
    };
    localize(v.y_curr, n_state, "y_curr.local", true);
    localize(v.y_prev, n_state, "y_prev.local", true);
    localize(v.y_prop, n_state, "y_prop.local", false);
    localize(v.ws, ws_size, "ws.local", false);
  }
  v.T = sb.arr(ld_ptr(sb, args, DYN_LOFF(T)), sT);
  v.STEP = sb.iarr(ld_ptr(sb, args, DYN_LOFF(STEP)), sStep);
  v.Y = lb.arr(ld_ptr(sb, args, DYN_LOFF(Y)), sYrec);
  v.cap_rec = ld_i64(sb, args, DYN_LOFF(cap_rec));
  v.state_rec_idx = sb.iarr(ld_ptr(sb, args, DYN_LOFF(state_rec_idx)), sSrec);
  v.n_rec_states = ld_i64(sb, args, DYN_LOFF(n_rec_states));
  sb.set_user_break_ptr(ld_ptr(sb, args, DYN_LOFF(user_break_flag)));
  // The per-lane outputs, written in place (the struct's arrays).
  v.status = sb.iarr(field_ptr(sb, args, DYN_LOFF(status)));
  v.step = sb.iarr(field_ptr(sb, args, DYN_LOFF(step)));
  v.n_rec = sb.iarr(field_ptr(sb, args, DYN_LOFF(n_rec)));
  v.nan_where = sb.iarr(field_ptr(sb, args, DYN_LOFF(nan_where)));
  v.nan_index = sb.iarr(field_ptr(sb, args, DYN_LOFF(nan_index)));
  v.t = sb.arr(field_ptr(sb, args, DYN_LOFF(t)));
  v.t_fail = sb.arr(field_ptr(sb, args, DYN_LOFF(t_fail)));

  const bool is_map = s.kind == ir::Kind::map;
  kernels::with_stepper(s.id, [&](auto stepper) {
    using St = decltype(stepper);
    if constexpr (std::is_same_v<St, kernels::StepMap> || std::is_same_v<St, kernels::StepEuler> ||
                  std::is_same_v<St, kernels::StepRK2> || std::is_same_v<St, kernels::StepRK4>)
      kernels::lane_runner(sb, lb, v, stepper, is_map);
    else
      throw std::logic_error("the stepper '" + s.name + "' does not run in lanes");
  });
  for (const auto& l : locals)
    if (l.copy_back)
      for (std::int64_t k = 0; k < l.n; ++k) lb.arr(l.host)[k] = lb.arr(l.local)[k];
  sb.ir().CreateRetVoid();
}
#undef DYN_LOFF

}  // namespace

AnalysisGenerated generate_lane_unit(const ir::ModelIR& model, const kernels::StepperInfo& stepper) {
  std::string why;
  if (!kernels::lanes_supported(model, stepper, &why))
    throw JitError("model " + model_label(model) + " with stepper '" + stepper.name +
                   "' does not run in lanes: " + why);
  return generate_runner_unit(model, stepper, "lanes4", "runner_lanes",
                              [&](ModuleGen& g) { emit_lane_runner(g, stepper); });
}

}  // namespace dynlib::jit
