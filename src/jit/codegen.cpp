// Code generation of one unit: the kernel templates of src/kernels/ instantiated with LlvmBackend.
// Functions of a unit (one LLVM module, one JITDylib):
//   rhs, inverse?, jacobian?, update_aux      model functions (always inlined into their callers)
//   events_pre, events_post                   the event kernels (kernels/events.hpp) as functions
//   allfinite                                 the guard
//   stepper                                   the stepper kernel
//   runner                                    kernels::runner with the stepper and kernels inlined
#include "jit/codegen.hpp"

#include <llvm/Bitcode/BitcodeReader.h>
#include <llvm/Bitcode/BitcodeWriter.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <optional>
#include <set>
#include <stdexcept>

#include "dynlib/errors.hpp"
#include "jit/llvm_backend.hpp"
#include "kernels/lyapunov.hpp"
#include "kernels/runner.hpp"
#include "kernels/steppers.hpp"
#include "util/deep_stack.hpp"

namespace dynlib::jit {

using kernels::RunnerArgs;
using B = LlvmBackend;

std::string model_label(const ir::ModelIR& m) {
  std::string s = m.name.empty() ? std::string("<unnamed model>") : "'" + m.name + "'";
  if (!m.source.empty()) s += " (" + m.source + ")";
  return s;
}

const char* const kColdSymbols[] = {"events_pre", "events_post", "allfinite", "stepper"};
bool is_cold_symbol(const std::string& name) {
  for (const char* c : kColdSymbols)
    if (name == c) return true;
  return false;
}

namespace {

using Clock = std::chrono::steady_clock;

// Unit (and module) identifiers are unique in the process: per-module statistics never mix.
std::uint64_t next_unit_id() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}
double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// ---- RunnerArgs access (byte offsets computed by the C++ compiler that built libdynlib) ----
#define DYN_OFF(field) static_cast<std::uint64_t>(offsetof(RunnerArgs, field))

llvm::Value* field_ptr(B& b, llvm::Value* args, std::uint64_t off) {
  return b.ir().CreateConstInBoundsGEP1_64(b.ir().getInt8Ty(), args, off);
}
B::Val ld_f64(B& b, llvm::Value* args, std::uint64_t off) {
  return b.val(b.ir().CreateLoad(b.gen().f64(), field_ptr(b, args, off)));
}
B::Int ld_i64(B& b, llvm::Value* args, std::uint64_t off) {
  return b.ival(b.ir().CreateLoad(b.gen().i64(), field_ptr(b, args, off)));
}
B::Int ld_i32(B& b, llvm::Value* args, std::uint64_t off) {
  return b.ival(b.ir().CreateSExt(b.ir().CreateLoad(b.gen().i32(), field_ptr(b, args, off)), b.gen().i64()));
}
llvm::Value* ld_ptr(B& b, llvm::Value* args, std::uint64_t off) {
  return b.ir().CreateLoad(b.gen().ptr(), field_ptr(b, args, off));
}
// A buffer pointer the RunnerArgs contract (kernels/runner_abi.hpp) sizes at `n` doubles or int64s:
// !dereferenceable lets LICM hoist loads from it out of conditionally executed loop blocks (the
// parameters read by every inlined rhs copy), !align 8 is the element alignment.
llvm::Value* ld_buffer(B& b, llvm::Value* args, std::uint64_t off, std::int64_t n) {
  auto* ld = b.ir().CreateLoad(b.gen().ptr(), field_ptr(b, args, off));
  auto& ctx = b.gen().ctx;
  auto md_i64 = [&](std::uint64_t v) {
    return llvm::MDNode::get(ctx, {llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(b.gen().i64(), v))});
  };
  if (n > 0)
    ld->setMetadata(llvm::LLVMContext::MD_dereferenceable, md_i64(static_cast<std::uint64_t>(n) * 8));
  ld->setMetadata(llvm::LLVMContext::MD_align, md_i64(8));
  return ld;
}
void st_f64(B& b, llvm::Value* args, std::uint64_t off, llvm::Value* v) {
  b.ir().CreateStore(v, field_ptr(b, args, off));
}
void st_i64(B& b, llvm::Value* args, std::uint64_t off, llvm::Value* v) {
  b.ir().CreateStore(v, field_ptr(b, args, off));
}
void st_i32(B& b, llvm::Value* args, std::uint64_t off, llvm::Value* v) {
  b.ir().CreateStore(b.ir().CreateTrunc(v, b.gen().i32()), field_ptr(b, args, off));
}

// A full-length config: provided entries, padded with the stepper's effective defaults (interp.cpp).
llvm::Value* padded_config(B& b, const kernels::StepperInfo& s, const ir::ModelIR& m, llvm::Value* cfg_ptr,
                           llvm::Value* n_cfg) {
  const auto defaults = s.default_config(m.sim);
  const std::size_t nc = s.config.size();
  auto* arr_ty = llvm::ArrayType::get(b.gen().f64(), nc == 0 ? 1 : nc);
  llvm::Value* buf = b.entry_alloca(arr_ty, "cfg");
  auto cfg = b.arr(cfg_ptr);
  auto local = b.arr(buf);
  auto has = b.bval(b.ir().CreateIsNotNull(cfg_ptr));
  for (std::size_t k = 0; k < nc; ++k) {
    const auto kk = static_cast<std::int64_t>(k);
    b.if_(
        b.land(has, b.ci(kk) < b.ival(n_cfg)), [&] { local[kk] = cfg[kk]; },
        [&] { local[kk] = b.c(k < defaults.size() ? defaults[k] : 0.0); });
  }
  return buf;
}

struct View {
  kernels::RunnerView<B> v;
  llvm::Value* args = nullptr;
  // Host buffers the function works on through local copies (see localize): copied back on exit.
  struct Local {
    llvm::Value* local;
    llvm::Value* host;
    std::int64_t n;
  };
  std::vector<Local> locals;
};

// Small models: the committed state, the proposal and the stepper workspace live in local arrays
// while the function runs, copied in here and back by store_view (every runner and event function
// has one exit, and the host reads the buffers only after it). With every index a constant (state
// loops unrolled) SROA keeps them in registers across steps, as hand-written code keeps its stage
// vectors. Stored to the host buffers, the state was reloaded at the start of the next step, and a
// reload wider than the stores (SLP-vectorised) stalled store-to-load forwarding.
void localize(B& b, View& w, B::Arr& field, std::int64_t n, const char* name) {
  if (n <= 0) return;
  auto* local = b.entry_alloca(llvm::ArrayType::get(b.gen().f64(), static_cast<std::uint64_t>(n)), name);
  auto host = field;
  for (std::int64_t k = 0; k < n; ++k) b.arr(local)[k] = host[k];
  w.locals.push_back({local, host.base, n});
  field = b.arr(local, field.scope);
}

// Runner prologue: RunnerArgs -> RunnerView (dio/iio as local arrays), as interp.cpp run_with.
View load_view(B& b, const kernels::StepperInfo& s, const ir::ModelIR& m, llvm::Value* args) {
  const auto n_state = static_cast<std::int64_t>(m.n_states());
  View w;
  w.args = args;
  auto& v = w.v;
  v.t_end = ld_f64(b, args, DYN_OFF(t_end));
  v.step_end = ld_i64(b, args, DYN_OFF(step_end));
  v.record_interval = ld_i64(b, args, DYN_OFF(record_interval));
  v.t_base = ld_f64(b, args, DYN_OFF(t_base));
  v.step_base = ld_i64(b, args, DYN_OFF(step_base));
  v.dt_nominal = ld_f64(b, args, DYN_OFF(dt_nominal));
  // Every host buffer of RunnerArgs is distinct: one alias scope each (BufferScope).
  v.y_curr = b.arr(ld_buffer(b, args, DYN_OFF(y_curr), n_state), sY);
  v.y_prev = b.arr(ld_buffer(b, args, DYN_OFF(y_prev), n_state), sYprev);
  v.params = b.arr(ld_buffer(b, args, DYN_OFF(params), static_cast<std::int64_t>(m.n_params())), sP);
  v.lag_ring = b.arr(ld_ptr(b, args, DYN_OFF(lag_ring)), sRing);
  v.lag_head = b.iarr(ld_ptr(b, args, DYN_OFF(lag_head)), sHead);
  v.aux_values = b.arr(ld_buffer(b, args, DYN_OFF(aux_values), static_cast<std::int64_t>(m.n_aux())), sAux);
  v.event_counts = b.iarr(ld_ptr(b, args, DYN_OFF(event_counts)), sEvtCount);
  v.ws = b.arr(ld_ptr(b, args, DYN_OFF(ws)), sWs);
  v.iws = b.iarr(ld_ptr(b, args, DYN_OFF(iws)), sIws);
  v.cfg = b.arr(
      padded_config(b, s, m, ld_ptr(b, args, DYN_OFF(stepper_config)), ld_i64(b, args, DYN_OFF(n_config)).v));
  v.y_prop = b.arr(ld_buffer(b, args, DYN_OFF(y_prop), n_state), sYprop);
  if (n_state > 0 && n_state <= b.gen().local_state_max && b.unroll(static_cast<int>(n_state))) {
    localize(b, w, v.y_curr, n_state, "y_curr.local");
    localize(b, w, v.y_prev, n_state, "y_prev.local");
    localize(b, w, v.y_prop, n_state, "y_prop.local");
    localize(b, w, v.ws, s.ws_size ? s.ws_size(n_state) : 0, "ws.local");
  }
  v.scratch = b.arr(ld_ptr(b, args, DYN_OFF(scratch)), sScratch);
  v.T = b.arr(ld_ptr(b, args, DYN_OFF(T)), sT);
  v.Y = b.arr(ld_ptr(b, args, DYN_OFF(Y)), sYrec);
  v.AUX = b.arr(ld_ptr(b, args, DYN_OFF(AUX)), sAuxrec);
  v.STEP = b.iarr(ld_ptr(b, args, DYN_OFF(STEP)), sStep);
  v.cap_rec = ld_i64(b, args, DYN_OFF(cap_rec));
  v.state_rec_idx = b.iarr(ld_ptr(b, args, DYN_OFF(state_rec_idx)), sSrec);
  v.n_rec_states = ld_i64(b, args, DYN_OFF(n_rec_states));
  v.aux_rec_idx = b.iarr(ld_ptr(b, args, DYN_OFF(aux_rec_idx)), sArec);
  v.n_rec_aux = ld_i64(b, args, DYN_OFF(n_rec_aux));
  v.EVT_CODE = b.iarr(ld_ptr(b, args, DYN_OFF(EVT_CODE)), sEc);
  v.EVT_INDEX = b.iarr(ld_ptr(b, args, DYN_OFF(EVT_INDEX)), sEi);
  v.EVT_LOG_DATA = b.arr(ld_ptr(b, args, DYN_OFF(EVT_LOG_DATA)), sEl);
  v.EVT_T = b.arr(ld_ptr(b, args, DYN_OFF(EVT_T)), sEt);
  v.EVT_STEP = b.iarr(ld_ptr(b, args, DYN_OFF(EVT_STEP)), sEs);
  v.cap_evt = ld_i64(b, args, DYN_OFF(cap_evt));
  // Analysis variant only (kernels/observer.hpp): unused by the BASE runner and the event kernels.
  v.an_ws = b.arr(ld_ptr(b, args, DYN_OFF(analysis_ws)), sAnWs);
  v.an_out = b.arr(ld_ptr(b, args, DYN_OFF(analysis_out)), sAnOut);
  v.an_trace = b.arr(ld_ptr(b, args, DYN_OFF(analysis_trace)), sAnTrace);
  v.an_count = b.iarr(field_ptr(b, args, DYN_OFF(trace_count)));  // in place, as interp.cpp (&a.trace_count)
  v.trace_cap = ld_i64(b, args, DYN_OFF(trace_cap));
  v.trace_stride = ld_i64(b, args, DYN_OFF(trace_stride));
  b.set_user_break_ptr(ld_ptr(b, args, DYN_OFF(user_break_flag)));
  v.dense_ws = b.arr(ld_ptr(b, args, DYN_OFF(dense_ws)), sDense);
  v.save_at = b.arr(ld_ptr(b, args, DYN_OFF(save_at)), sSaveAt);
  v.n_save_at = ld_i64(b, args, DYN_OFF(n_save_at));
  v.tstops = b.arr(ld_ptr(b, args, DYN_OFF(tstops)), sTstops);
  v.n_tstops = ld_i64(b, args, DYN_OFF(n_tstops));

  v.dio = b.arr(b.entry_alloca(llvm::ArrayType::get(b.gen().f64(), kernels::kD_count), "dio"));
  v.iio = b.iarr(b.entry_alloca(llvm::ArrayType::get(b.gen().i64(), kernels::kI_count), "iio"));
  v.dio[kernels::kD_t] = ld_f64(b, args, DYN_OFF(t));
  v.dio[kernels::kD_dt] = ld_f64(b, args, DYN_OFF(dt));
  v.dio[kernels::kD_err_est] = ld_f64(b, args, DYN_OFF(err_est));
  v.dio[kernels::kD_t_fail] = ld_f64(b, args, DYN_OFF(t_fail));
  v.iio[kernels::kI_i] = ld_i64(b, args, DYN_OFF(i));
  v.iio[kernels::kI_step] = ld_i64(b, args, DYN_OFF(step));
  v.iio[kernels::kI_m] = ld_i64(b, args, DYN_OFF(m));
  v.iio[kernels::kI_resume] = ld_i32(b, args, DYN_OFF(resume_point));
  v.iio[kernels::kI_status] = ld_i32(b, args, DYN_OFF(status));
  v.iio[kernels::kI_need_rec] = ld_i64(b, args, DYN_OFF(need_rec));
  v.iio[kernels::kI_need_evt] = ld_i64(b, args, DYN_OFF(need_evt));
  v.iio[kernels::kI_nan_where] = ld_i32(b, args, DYN_OFF(nan_where));
  v.iio[kernels::kI_nan_index] = ld_i64(b, args, DYN_OFF(nan_index));
  v.iio[kernels::kI_nan_event] = ld_i64(b, args, DYN_OFF(nan_event));
  v.iio[kernels::kI_save_next] = ld_i64(b, args, DYN_OFF(save_at_next));
  return w;
}

// Runner epilogue: dio/iio -> RunnerArgs.
void store_view(B& b, const View& w) {
  auto& v = w.v;
  auto* a = w.args;
  for (const auto& l : w.locals)
    for (std::int64_t k = 0; k < l.n; ++k) b.arr(l.host)[k] = b.arr(l.local)[k];
  st_f64(b, a, DYN_OFF(t), B::Val(v.dio[kernels::kD_t]).v);
  st_f64(b, a, DYN_OFF(dt), B::Val(v.dio[kernels::kD_dt]).v);
  st_f64(b, a, DYN_OFF(err_est), B::Val(v.dio[kernels::kD_err_est]).v);
  st_f64(b, a, DYN_OFF(t_fail), B::Val(v.dio[kernels::kD_t_fail]).v);
  st_i64(b, a, DYN_OFF(i), B::Int(v.iio[kernels::kI_i]).v);
  st_i64(b, a, DYN_OFF(step), B::Int(v.iio[kernels::kI_step]).v);
  st_i64(b, a, DYN_OFF(m), B::Int(v.iio[kernels::kI_m]).v);
  st_i32(b, a, DYN_OFF(resume_point), B::Int(v.iio[kernels::kI_resume]).v);
  st_i32(b, a, DYN_OFF(status), B::Int(v.iio[kernels::kI_status]).v);
  st_i64(b, a, DYN_OFF(need_rec), B::Int(v.iio[kernels::kI_need_rec]).v);
  st_i64(b, a, DYN_OFF(need_evt), B::Int(v.iio[kernels::kI_need_evt]).v);
  st_i32(b, a, DYN_OFF(nan_where), B::Int(v.iio[kernels::kI_nan_where]).v);
  st_i64(b, a, DYN_OFF(nan_index), B::Int(v.iio[kernels::kI_nan_index]).v);
  st_i64(b, a, DYN_OFF(nan_event), B::Int(v.iio[kernels::kI_nan_event]).v);
  st_i64(b, a, DYN_OFF(save_at_next), B::Int(v.iio[kernels::kI_save_next]).v);
}
#undef DYN_OFF

// ---- component emitters ----

void emit_events(ModuleGen& g, const kernels::StepperInfo& s, bool post) {
  auto* p = g.ptr();
  auto* ty = llvm::FunctionType::get(g.i64(), {p, g.f64(), p}, false);
  auto* f = g.new_function(post ? "events_post" : "events_pre", ty);
  B b(g, f);
  View w = load_view(b, s, g.model, f->getArg(0));
  auto st = b.ivar(b.ci(kernels::kRunning));
  auto m = b.ivar(B::Int(w.v.iio[kernels::kI_m]));
  // The step number of the state the events see: pre = step n, post = n + 1 (runner.hpp).
  B::Int step = w.v.iio[kernels::kI_step];
  auto step_seen = post ? step + b.ci(1) : step;
  kernels::run_events(b, w.v, post, b.val(f->getArg(1)), b.arr(f->getArg(2)), st, m,
                      B::Int(w.v.iio[kernels::kI_i]), step_seen);
  w.v.iio[kernels::kI_m] = m.get();
  store_view(b, w);
  b.ir().CreateRet(st.get().v);
}

void emit_guard(ModuleGen& g) {
  auto* ty = llvm::FunctionType::get(g.i64(), {g.ptr(), g.i64()}, false);
  auto* f = g.new_function("allfinite", ty);
  B b(g, f);
  auto v = b.arr(f->getArg(0));
  auto ok = b.ivar(b.ci(1));
  b.for_(b.ci(0), b.ival(f->getArg(1)),
         [&](B::Int k) { b.if_(b.lnot(b.isfinite(v[k])), [&] { ok = b.ci(0); }); });
  b.ir().CreateRet(ok.get().v);
}

void emit_stepper(ModuleGen& g, const kernels::StepperInfo& s) {
  auto* p = g.ptr();
  auto* ty = llvm::FunctionType::get(g.i64(), {g.f64(), g.f64(), p, p, p, p, p, p, p, p, g.i64(), p}, false);
  auto* f = g.new_function("stepper", ty);
  B b(g, f);
  kernels::StepCtx<B> c;
  c.n = static_cast<int>(g.model.n_states());
  c.params = b.arr(f->getArg(4));
  c.lag_ring = b.arr(f->getArg(5));
  c.lag_head = b.iarr(f->getArg(6));
  c.ws = b.arr(f->getArg(7));
  c.iws = b.iarr(f->getArg(8));
  c.cfg = b.arr(padded_config(b, s, g.model, f->getArg(9), f->getArg(10)));
  auto out = kernels::make_step_out(b);
  kernels::with_stepper(s.id, [&](auto stepper) {
    stepper(b, c, b.val(f->getArg(0)), b.val(f->getArg(1)), b.arr(f->getArg(2)), b.arr(f->getArg(3)), out);
  });
  auto o3 = b.arr(f->getArg(11));
  o3[0] = out.t_prop.get();
  o3[1] = out.dt_next.get();
  o3[2] = out.err.get();
  b.ir().CreateRet(out.status.get().v);
}

// The runner (BASE variant) or, with `analysis`, the ANALYSIS variant with the observers' hooks.
void emit_runner(ModuleGen& g, const kernels::StepperInfo& s, const kernels::Layout& L,
                 const kernels::AnalysisLayout* analysis = nullptr, const char* name = "runner") {
  auto* ty = llvm::FunctionType::get(llvm::Type::getVoidTy(g.ctx), {g.ptr()}, false);
  auto* f = g.new_function(name, ty);
  B b(g, f);
  View w = load_view(b, s, g.model, f->getArg(0));
  kernels::RunnerTraits tr;
  tr.is_map = s.kind == ir::Kind::map;
  tr.adaptive = s.adaptive;
  tr.max_events_per_step = L.max_events_per_step;
  tr.work_counters_at = s.work_counters_at;
  if (analysis != nullptr) {
    kernels::AnalysisHooks hooks;
    hooks.L = analysis;
    kernels::with_stepper(s.id, [&](auto stepper) { kernels::runner(b, w.v, stepper, tr, hooks); });
  } else {
    kernels::with_stepper(s.id, [&](auto stepper) { kernels::runner(b, w.v, stepper, tr); });
  }
  store_view(b, w);
  b.ir().CreateRetVoid();
}

const char* kSigBlock =
    "void %s(double t, const double* y, double* out, const double* params, const double* lag_ring, "
    "const int64_t* lag_head)";

std::string fmt_sig(const char* pattern, const std::string& name) {
  std::string s(pattern);
  auto pos = s.find("%s");
  if (pos != std::string::npos) s.replace(pos, 2, name);
  return s;
}

// The component text: a clone of the module where only the component's functions keep their bodies.
std::string component_ir(const llvm::Module& mod, const std::set<std::string>& defs) {
  llvm::ValueToValueMapTy vmap;
  auto clone = llvm::CloneModule(mod, vmap, [&](const llvm::GlobalValue* gv) {
    return (llvm::isa<llvm::GlobalVariable>(gv) && gv->hasLocalLinkage()) ||
           defs.count(std::string(gv->getName())) != 0;
  });
  std::string s;
  llvm::raw_string_ostream os(s);
  clone->print(os, nullptr);
  os.flush();
  return s;
}

// Test hook: DYNLIB_JIT_INJECT_FAULT=<component> appends a block without terminator to that
// component's function, so verification fails (tests the JitError path).
void maybe_inject_fault(llvm::Module& mod, const std::string& component, const std::string& symbol) {
  const char* env = std::getenv("DYNLIB_JIT_INJECT_FAULT");
  if (env == nullptr || component != env) return;
  if (auto* f = mod.getFunction(symbol)) llvm::BasicBlock::Create(mod.getContext(), "injected_fault", f);
}

// The plain model functions: the host looks them up, and kernels call them when they are too big to
// emit in place (LlvmBackend::emit_block; ModuleGen::inlined). Those stay out of line (noinline), so
// O3 and codegen see each equation once. Their output array never overlaps an input (kernels always
// pass distinct workspace slices): `noalias` lets O3 keep inputs in registers while writing outputs.
void set_inline_policy(llvm::Module& mod, const ModuleGen& g) {
  const std::pair<const char*, ModelFn> fns[] = {{"rhs", ModelFn::rhs},
                                                 {"jacobian", ModelFn::jacobian},
                                                 {"inverse", ModelFn::inverse},
                                                 {"update_aux", ModelFn::update_aux}};
  for (const auto& [name, which] : fns) {
    auto* f = mod.getFunction(name);
    if (f == nullptr) continue;
    f->addFnAttr(g.inlined(which) ? llvm::Attribute::AlwaysInline : llvm::Attribute::NoInline);
    f->addParamAttr(which == ModelFn::update_aux ? 3 : 2, llvm::Attribute::NoAlias);
  }
}

// The SLP vectorizer packs state components into vector registers. It paid off only for models with
// many states and a call-free rhs (bench/jit_vs_native, JIT / hand-written C++ with and without it):
//  - Van der Pol rk45 (2 states): 1.16x with, 0.99x without (packing and unpacking around a scalar rhs);
//  - Hodgkin-Huxley rk4 (24 exp per step): 1.18-1.21x with, 0.97-1.04x without: every vector register
//    is caller-saved in the SysV ABI, so the packed state is spilled around each call, and it
//    computed 4-wide divisions to keep one lane;
//  - Lorenz rk4 unchanged; Lorenz-96 (no calls) 4 states 7% and 12 states 45% faster with it.
void set_vectorize_policy(llvm::Module& mod, const ModuleGen& g) {
  bool calls = false;
  if (auto* rhs = mod.getFunction("rhs"))
    for (const auto& bb : *rhs)
      for (const auto& inst : bb)
        if (const auto* call = llvm::dyn_cast<llvm::CallInst>(&inst))
          if (const auto* callee = call->getCalledFunction(); callee == nullptr || !callee->isIntrinsic())
            calls = true;
  if (calls || g.model.n_states() < g.slp_min_states)
    mod.addModuleFlag(llvm::Module::Warning, "dynlib.no_slp", 1);
}

}  // namespace

static AnalysisGenerated generate_runner_unit_here(const ir::ModelIR& model,
                                                   const kernels::StepperInfo& stepper,
                                                   const std::string& tag, const char* symbol,
                                                   const std::function<void(ModuleGen&)>& emit) {
  const auto t_start = Clock::now();
  AnalysisGenerated out;
  const std::string label = model_label(model);
  const std::string unit_name =
      "dynlib:" + model.hash.hex() + ":" + stepper.name + ":" + tag + "#" + std::to_string(next_unit_id());
  OrcEngine& engine = OrcEngine::instance();
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto mod = std::make_unique<llvm::Module>(unit_name, *ctx);
  engine.prepare(*mod);
  ModuleGen g(*ctx, *mod, model);
  try {
    emit(g);
  } catch (const std::exception& e) {
    throw JitError("JIT code generation failed for component 'runner' (" + tag + ") of model " + label +
                   ": " + e.what());
  }
  maybe_inject_fault(*mod, symbol, symbol);
  set_inline_policy(*mod, g);
  set_vectorize_policy(*mod, g);
  out.timings.build_ir_ms = ms_since(t_start);
  auto t_verify = Clock::now();
  {
    std::string err;
    llvm::raw_string_ostream os(err);
    if (llvm::verifyModule(*mod, &os)) {
      os.flush();
      throw JitError("JIT code generation produced invalid LLVM IR for component 'runner' (" + tag +
                     ") of model " + label + ": " + err);
    }
  }
  out.timings.verify_ms = ms_since(t_verify);
  {
    llvm::SmallVector<char, 0> buf;
    llvm::BitcodeWriter writer(buf);
    writer.writeModule(*mod);
    writer.writeSymtab();
    writer.writeStrtab();
    out.bitcode.assign(buf.begin(), buf.end());
  }
  auto t_link = Clock::now();
  OrcEngine::take_optimize_ms(unit_name);
  try {
    std::vector<std::unique_ptr<llvm::Module>> mods;
    mods.push_back(std::move(mod));
    out.unit = engine.add(std::move(ctx), std::move(mods), unit_name);
    out.runner = reinterpret_cast<NativeFns::RunnerFn>(out.unit->lookup(symbol));
  } catch (const JitError& e) {
    throw JitError(std::string("JIT compilation failed for model ") + label + ": " + e.what());
  }
  out.timings.optimize_ms = OrcEngine::take_optimize_ms(unit_name);
  out.timings.codegen_link_ms = ms_since(t_link) - out.timings.optimize_ms;
  out.timings.total_ms = ms_since(t_start);
  return out;
}

std::string component_ir_text(const std::string& bitcode, const std::vector<std::string>& symbols) {
  llvm::LLVMContext ctx;
  auto buf = llvm::MemoryBuffer::getMemBuffer(llvm::StringRef(bitcode.data(), bitcode.size()), "unit", false);
  auto mod = llvm::parseBitcodeFile(buf->getMemBufferRef(), ctx);
  if (!mod) {
    std::string err;
    llvm::handleAllErrors(mod.takeError(), [&](const llvm::ErrorInfoBase& e) { err = e.message(); });
    throw JitError("cannot render the IR of a JIT component: " + err);
  }
  return component_ir(**mod, std::set<std::string>(symbols.begin(), symbols.end()));
}

static Generated generate_unit_here(const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                                    const core::JitOptions& opts, bool baseline) {
  const auto t_start = Clock::now();
  Generated out;
  out.baseline = baseline;
  // "~baseline" keeps baseline modules outside the disk cache's capture prefix ("dynlib:<hash>:<stepper>#").
  out.unit_name = "dynlib:" + model.hash.hex() + ":" + stepper.name + (baseline ? "~baseline" : "") + "#" +
                  std::to_string(next_unit_id());
  const std::string label = model_label(model);
  OrcEngine& engine = OrcEngine::instance();

  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto mod = std::make_unique<llvm::Module>(out.unit_name, *ctx);
  engine.prepare(*mod);
  ModuleGen g(*ctx, *mod, model);
  const auto layout = kernels::compute_layout(model, stepper);

  // Components, in export order.
  struct Spec {
    const char* name;
    const char* file;
    std::vector<std::string> symbols;
    std::string signature;
  };
  std::vector<Spec> specs;
  specs.push_back({"rhs", "rhs", {"rhs"}, fmt_sig(kSigBlock, "rhs")});
  specs.push_back({"events_pre",
                   "events",
                   {"events_pre"},
                   "int64_t events_pre(dynlib::kernels::RunnerArgs* args, double t, double* y)  "
                   "/* returns -1 (running) or NAN_DETECTED; updates args->m and the event log */"});
  specs.push_back({"events_post",
                   "events",
                   {"events_post"},
                   "int64_t events_post(dynlib::kernels::RunnerArgs* args, double t, double* y)"});
  specs.push_back({"update_aux",
                   "aux",
                   {"update_aux"},
                   "void update_aux(double t, const double* y, const double* params, double* aux_out, "
                   "const double* lag_ring, const int64_t* lag_head)"});
  if (model.exact_jacobian())
    specs.push_back({"jacobian", "jacobian", {"jacobian"}, fmt_sig(kSigBlock, "jacobian")});
  if (model.inverse) specs.push_back({"inverse", "inverse", {"inverse"}, fmt_sig(kSigBlock, "inverse")});
  specs.push_back({"guards", "guards", {"allfinite"}, "int64_t allfinite(const double* v, int64_t n)"});
  specs.push_back(
      {"stepper",
       "stepper",
       {"stepper"},
       "int64_t stepper(double t, double dt, const double* y, double* y_prop, double* params, "
       "const double* lag_ring, int64_t* lag_head, double* ws, int64_t* iws, const double* config, "
       "int64_t n_config, double* out /* t_prop, dt_next, err_est */)  /* " +
           stepper.name + " */"});
  specs.push_back(
      {"runner",
       "runner",
       {"runner"},
       "void runner(dynlib::kernels::RunnerArgs* args)  /* " + stepper.name + ", " +
           (stepper.kind == ir::Kind::map ? "discrete" : (stepper.adaptive ? "adaptive" : "fixed-step")) +
           "; stepper and kernels inlined */"});

  // ---- build IR ----
  for (const auto& sp : specs) {
    const std::string name = sp.name;
    try {
      if (name == "rhs")
        g.rhs_fn();
      else if (name == "events_pre")
        emit_events(g, stepper, false);
      else if (name == "events_post")
        emit_events(g, stepper, true);
      else if (name == "update_aux")
        g.update_aux_fn();
      else if (name == "jacobian")
        g.jacobian_fn();
      else if (name == "inverse")
        g.inverse_fn();
      else if (name == "guards")
        emit_guard(g);
      else if (name == "stepper")
        emit_stepper(g, stepper);
      else if (name == "runner")
        emit_runner(g, stepper, layout);
    } catch (const JitError& e) {
      throw JitError("JIT code generation failed for component '" + name + "' of model " + label + ": " +
                     e.what());
    } catch (const std::exception& e) {
      throw JitError("JIT code generation failed for component '" + name + "' of model " + label + ": " +
                     e.what());
    }
    for (const auto& sym : sp.symbols) maybe_inject_fault(*mod, name, sym);
  }
  set_inline_policy(*mod, g);
  set_vectorize_policy(*mod, g);
  out.timings.build_ir_ms = ms_since(t_start);

  // ---- verify (per component first, so the error names it) ----
  auto t_verify = Clock::now();
  for (const auto& sp : specs) {
    for (const auto& sym : sp.symbols) {
      auto* f = mod->getFunction(sym);
      if (f == nullptr)
        throw JitError(std::string("JIT code generation produced no function for component '") + sp.name +
                       "' of model " + label);
      std::string err;
      llvm::raw_string_ostream os(err);
      if (llvm::verifyFunction(*f, &os)) {
        os.flush();
        throw JitError(std::string("JIT code generation produced invalid LLVM IR for component '") + sp.name +
                       "' (function " + sym + ") of model " + label + ": " + err);
      }
    }
  }
  {
    std::string err;
    llvm::raw_string_ostream os(err);
    if (llvm::verifyModule(*mod, &os)) {
      os.flush();
      throw JitError("JIT code generation produced an invalid LLVM module for model " + label + ": " + err);
    }
  }
  out.timings.verify_ms = ms_since(t_verify);

  // ---- component texts: keep the unoptimised module as bitcode (~0.2 ms); the IR text of a
  // component is rendered on demand (component_ir_text), off the compile path ----
  for (const auto& sp : specs) {
    Component c;
    c.name = sp.name;
    c.file = sp.file;
    c.symbols = sp.symbols;
    c.signature = sp.signature;
    out.components.push_back(std::move(c));
  }
  {
    llvm::SmallVector<char, 0> buf;
    llvm::BitcodeWriter writer(buf);
    writer.writeModule(*mod);
    writer.writeSymtab();
    writer.writeStrtab();
    out.bitcode.assign(buf.begin(), buf.end());
  }
  // ---- split: hot module (model functions + runner: looked up now) and cold module (the standalone
  // events/guard/stepper entry points: the host's run loop never calls them, so ORC optimises and
  // compiles them only when one is first looked up; the runner has its own inlined copies) ----
  for (const char* fn : kColdSymbols)
    if (auto* f = mod->getFunction(fn)) {
      f->addFnAttr(llvm::Attribute::OptimizeForSize);
      f->addFnAttr(llvm::Attribute::MinSize);
    }
  // The standalone jacobian (the symbolic one has n^2 entries) goes to the cold module too when
  // nothing calls it (explicit steppers; implicit ones call it from the runner).
  if (auto* jf = mod->getFunction("jacobian"); jf != nullptr && jf->use_empty()) out.jacobian_cold = true;
  // A module that would count as large (thousands of states, lagged states or events) keeps its
  // out-of-line model functions (rhs, aux, ...: the huge straight-line part) in the cold module, so the
  // hot module with the runner's loops (a sparse LU, say) stays small and gets the full pipeline and
  // code generation instead of the fast one. Same rule as the engine's, so a module it would optimise
  // fully anyway stays whole.
  const bool model_fns_cold = engine.counts_as_large(*mod);
  auto out_of_line_model_fn = [&](const std::string& name) {
    if (!model_fns_cold || (name != "rhs" && name != "update_aux" && name != "inverse" && name != "jacobian"))
      return false;
    const auto* f = mod->getFunction(name);
    return f != nullptr && f->hasFnAttribute(llvm::Attribute::NoInline);
  };
  auto split = [&](bool cold) {
    llvm::ValueToValueMapTy vmap;
    return llvm::CloneModule(*mod, vmap, [&](const llvm::GlobalValue* gv) {
      // Module-private constants (kernel index tables) are copied into both halves: a private
      // definition cannot be shared between modules.
      if (llvm::isa<llvm::GlobalVariable>(gv) && gv->hasLocalLinkage()) return true;
      const std::string gname(gv->getName());
      // The parts of a long model function (`rhs.part3`: internal, called only by `rhs`) go with it.
      const std::string owner = gname.substr(0, gname.find(".part"));
      const bool is_cold_fn = llvm::isa<llvm::Function>(gv) &&
                              (is_cold_symbol(gname) || (out.jacobian_cold && gname == "jacobian") ||
                               out_of_line_model_fn(owner));
      return cold ? is_cold_fn : !is_cold_fn;
    });
  };
  // After the bitcode: both tiers keep the same unoptimised IR (sources, cache digest).
  if (baseline)
    mod->addModuleFlag(llvm::Module::Warning, kBaselineFlag, 1);  // copied into both split modules
  auto hot = split(false);
  auto cold = split(true);
  cold->setModuleIdentifier(out.unit_name + ":cold");
  mod.reset();
  std::vector<std::unique_ptr<llvm::Module>> mods;
  mods.push_back(std::move(hot));
  mods.push_back(std::move(cold));

  // ---- add; the first lookup runs O3 + codegen + link of the hot module ----
  auto t_link = Clock::now();
  // The hot module keeps the unit name as identifier (the cold one has ":cold").
  OrcEngine::take_optimize_ms(out.unit_name);
  if (opts.keep_optimized_ir) OrcEngine::set_ir_sink(out.unit_name, &out.optimized_ir);
  try {
    out.unit = engine.add(std::move(ctx), std::move(mods), out.unit_name);
    auto& u = *out.unit;
    auto& F = out.fns;
    F.rhs = reinterpret_cast<NativeFns::BlockFn>(u.lookup("rhs"));
    F.update_aux = reinterpret_cast<NativeFns::AuxFn>(u.lookup("update_aux"));
    if (model.exact_jacobian() && !out.jacobian_cold)
      F.jacobian = reinterpret_cast<NativeFns::BlockFn>(u.lookup("jacobian"));
    if (model.inverse) F.inverse = reinterpret_cast<NativeFns::BlockFn>(u.lookup("inverse"));
    F.runner = reinterpret_cast<NativeFns::RunnerFn>(u.lookup("runner"));
  } catch (const JitError& e) {
    OrcEngine::set_ir_sink(out.unit_name, nullptr);
    throw JitError(std::string("JIT compilation failed for model ") + label + ": " + e.what());
  }
  OrcEngine::set_ir_sink(out.unit_name, nullptr);
  out.timings.optimize_ms = OrcEngine::take_optimize_ms(out.unit_name);
  out.timings.codegen_link_ms = ms_since(t_link) - out.timings.optimize_ms;
  out.timings.total_ms = ms_since(t_start);
  return out;
}

// Emitting recurses once per nesting level of an expression (a sum of 100k terms is 100k levels), and
// this may run on a thread with a small stack (the background compile).
AnalysisGenerated generate_runner_unit(const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                                       const std::string& tag, const char* symbol,
                                       const std::function<void(ModuleGen&)>& emit) {
  std::optional<AnalysisGenerated> out;
  util::run_with_large_stack(
      [&] { out.emplace(generate_runner_unit_here(model, stepper, tag, symbol, emit)); });
  return std::move(*out);
}

AnalysisGenerated generate_analysis_unit(const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                                         const kernels::AnalysisLayout& L) {
  return generate_runner_unit(
      model, stepper, "analysis[" + L.signature() + "]", "runner_analysis", [&](ModuleGen& g) {
        emit_runner(g, stepper, kernels::compute_layout(model, stepper), &L, "runner_analysis");
      });
}

Generated generate_unit(const ir::ModelIR& model, const kernels::StepperInfo& stepper,
                        const core::JitOptions& opts, bool baseline) {
  std::optional<Generated> out;
  util::run_with_large_stack([&] { out.emplace(generate_unit_here(model, stepper, opts, baseline)); });
  return std::move(*out);
}

}  // namespace dynlib::jit
