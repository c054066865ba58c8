// The LLVM backend `B` of the kernel concept (src/kernels/backend.hpp): the same stepper, runner,
// event and guard templates the interpreter executes with DirectBackend here EMIT LLVM IR.
//   Val  = a double SSA value          Bool = an i1 SSA value          Int = an i64 SSA value
//   Arr  = a double* (indexing yields a Ref: an lvalue that stores on `=` and, like a double& copied
//          into a local in the interpreter, carries the value loaded where it was formed)
//   Var/IVar = an alloca (promoted to SSA by mem2reg), value semantics on copy
//   if_/while_/for_ emit basic blocks; eval() emits a lowered ir::Expr inline; rhs()/jacobian()
//   emit calls to the unit's internal model functions (inlined by O3).
// Strict IEEE: no fast-math flags, no `contract`, libm calls marked `nobuiltin` so LLVM never
// replaces them (pow(x,2) -> x*x, sin+cos -> sincos, constant folding with another libm, ...).
// Lane mode (lanes > 1, docs/internals/simd-lanes.md): Val is a vector of `lanes` doubles, one
// trajectory per lane, and every double buffer is lane-interleaved (element k of lane j at k*lanes + j).
// Int stays a scalar i64 (uniform across lanes); a comparison of Vals gives a vector Bool. Arithmetic,
// comparisons, selects and intrinsics are the scalar operations lane by lane; libm calls stay scalar
// per lane (extract, call, insert) so they round exactly as in a scalar run; the short-circuit and
// conditional expressions become selects (both sides are pure). Branches (if_/while_) need a scalar
// Bool. A lane backend can share the IR builder of a scalar one emitting into the same function
// (the lane runner, kernels/runner_lanes.hpp, keeps time and counters scalar).
// Only src/jit/ includes this header (it pulls IRBuilder.h).
#pragma once
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "dynlib/ir.hpp"
#include "kernels/backend.hpp"

namespace dynlib::jit {

class LlvmBackend;

// The host buffers of RunnerArgs, which never overlap one another: one alias scope each, in one
// domain per module (ModuleGen::scope_set). Model functions emitted in place (LlvmBackend::emit_block)
// read `params` through the runner's sP, so O3 knows the stores into workspace stages cannot change
// a parameter and hoists the parameter loads out of the step loop (Hodgkin-Huxley: about 25 loads
// per rhs copy).
enum BufferScope : int {
  sY,
  sYprev,
  sP,
  sRing,
  sHead,
  sAux,
  sWs,
  sIws,
  sYprop,
  sScratch,
  sT,
  sYrec,
  sAuxrec,
  sStep,
  sSrec,
  sArec,
  sEc,
  sEi,
  sEl,
  sEt,
  sEs,
  sAnWs,
  sAnOut,
  sAnTrace,
  sEvtCount,
  sDense,
  sSaveAt,
  sTstops,
  kBufferScopeCount
};

struct LVal {
  LlvmBackend* b = nullptr;
  llvm::Value* v = nullptr;
};
struct LBool {
  LlvmBackend* b = nullptr;
  llvm::Value* v = nullptr;  // i1
};
struct LInt {
  LlvmBackend* b = nullptr;
  llvm::Value* v = nullptr;  // i64
};

// Lvalue proxies for array elements.
struct LRef {
  LlvmBackend* b = nullptr;
  llvm::Value* ptr = nullptr;
  llvm::Value* loaded = nullptr;  // value at the point the reference was formed
  int scope = -1;                 // BufferScope of the buffer (-1: none)
  operator LVal() const { return LVal{b, loaded}; }
  LRef& operator=(LVal v);
  LRef& operator=(const LRef& o) { return *this = LVal(o); }
  LRef(LlvmBackend* bb, llvm::Value* p, int sc = -1);
  LRef(const LRef&) = default;
};
struct LIRef {
  LlvmBackend* b = nullptr;
  llvm::Value* ptr = nullptr;
  llvm::Value* loaded = nullptr;
  int scope = -1;
  operator LInt() const { return LInt{b, loaded}; }
  LIRef& operator=(LInt v);
  LIRef& operator=(const LIRef& o) { return *this = LInt(o); }
  LIRef(LlvmBackend* bb, llvm::Value* p, int sc = -1);
  LIRef(const LIRef&) = default;
};

struct LArr {
  LlvmBackend* b = nullptr;
  llvm::Value* base = nullptr;  // ptr to double
  int scope = -1;               // distinct host buffer id (-1: may alias anything)
  LRef operator[](int i) const;
  LRef operator[](std::int64_t i) const;
  LRef operator[](LInt i) const;
};
struct LIArr {
  LlvmBackend* b = nullptr;
  llvm::Value* base = nullptr;  // ptr to i64
  int scope = -1;
  LIRef operator[](int i) const;
  LIRef operator[](std::int64_t i) const;
  LIRef operator[](LInt i) const;
};

// Mutable scalars: an alloca in the function's entry block.
struct LVar {
  LlvmBackend* b = nullptr;
  llvm::Value* slot = nullptr;
  LVal get() const;
  operator LVal() const { return get(); }
  LVar& operator=(LVal v);
  LVar& operator=(const LVar& o) { return *this = o.get(); }
  LVar(LlvmBackend* bb, LVal init);
  LVar(const LVar& o);  // value semantics: a new variable holding o's current value
};
struct LIVar {
  LlvmBackend* b = nullptr;
  llvm::Value* slot = nullptr;
  LInt get() const;
  operator LInt() const { return get(); }
  LIVar& operator=(LInt v);
  LIVar& operator=(const LIVar& o) { return *this = o.get(); }
  LIVar(LlvmBackend* bb, LInt init);
  LIVar(const LIVar& o);
};

// Arithmetic and comparisons (non-template, so Ref/Var convert implicitly).
LVal operator+(LVal a, LVal c);
LVal operator-(LVal a, LVal c);
LVal operator*(LVal a, LVal c);
LVal operator/(LVal a, LVal c);
LVal operator-(LVal a);
LBool operator<(LVal a, LVal c);
LBool operator<=(LVal a, LVal c);
LBool operator>(LVal a, LVal c);
LBool operator>=(LVal a, LVal c);
LBool operator==(LVal a, LVal c);
LBool operator!=(LVal a, LVal c);
LInt operator+(LInt a, LInt c);
LInt operator-(LInt a, LInt c);
LInt operator*(LInt a, LInt c);
LInt operator/(LInt a, LInt c);  // C++ truncating division
LInt operator%(LInt a, LInt c);  // C++ remainder
LInt operator-(LInt a);
LBool operator<(LInt a, LInt c);
LBool operator<=(LInt a, LInt c);
LBool operator>(LInt a, LInt c);
LBool operator>=(LInt a, LInt c);
LBool operator==(LInt a, LInt c);
LBool operator!=(LInt a, LInt c);

enum class ModelFn { rhs, inverse, jacobian, update_aux };

// Per-module state shared by every backend instance emitting into one module: the model, the
// lazily emitted model functions (rhs, jacobian, ...) and libm declarations.
class ModuleGen {
 public:
  ModuleGen(llvm::LLVMContext& ctx, llvm::Module& mod, const ir::ModelIR& model);
  llvm::LLVMContext& ctx;
  llvm::Module& mod;
  const ir::ModelIR& model;
  // State-component loops (kernels::for_states) with n <= unroll_max are unrolled at
  // code-generation time, longer ones are emitted as runtime loops (code size and O3 time linear in
  // n). Default 64 (Lorenz-96 with 40 states: unrolled 1.05x native, loops 1.10x);
  // DYNLIB_JIT_UNROLL_MAX overrides it (for measurements).
  int unroll_max = 64;
  // Runner/event functions of models with at most this many states work on a local copy of the
  // committed state and workspace (codegen.cpp localize). Lorenz-96 rk4 (bench/README.md): 6 states
  // 62 -> 46 ns/step with local copies, 10 states the same, 16 states 73 -> 80 ns/step, and O3 time
  // grows with the registers SROA makes (10 states: 66 -> 119 ms). DYNLIB_JIT_LOCAL_STATE_MAX overrides it.
  std::int64_t local_state_max = 8;
  // Read by OrcEngine::optimize(): no SLP vectorizer for models with fewer than this many states
  // or whose rhs calls a libm function (see codegen.cpp set_vectorize_policy).
  // DYNLIB_JIT_SLP_MIN_STATES overrides it.
  std::size_t slp_min_states = 4;
  // Model functions with at most this many expression nodes are emitted in place at each call site
  // (LlvmBackend::emit_block: the runner is one function, as fast as hand-written code); larger ones stay out
  // of line, so O3 and codegen see each equation once and compile time stays about linear in model size
  // (Lorenz-96 with 1000 states). DYNLIB_JIT_INLINE_MAX overrides it (for measurements).
  std::size_t inline_max_nodes = 2000;
  // Out-of-line model functions with more than split_min_nodes expression nodes are split into parts of
  // about part_max_nodes nodes, one function each (ModuleGen::block_fn). Below split_min_nodes (Lorenz-96
  // with 1000 states has about 8000) the module stays below the large-module threshold anyway.
  std::size_t split_min_nodes = 12000;
  std::size_t part_max_nodes = 2000;
  static std::size_t count_nodes(const std::vector<ir::Expr>& es);
  bool inlined(ModelFn which) const;
  // The equations of a model function (the Jacobian flattened row-major into `flat`).
  const std::vector<ir::Expr>& exprs_of(ModelFn which, std::vector<ir::Expr>& flat) const;

  llvm::Type* f64() const { return llvm::Type::getDoubleTy(ctx); }
  llvm::Type* i64() const { return llvm::Type::getInt64Ty(ctx); }
  llvm::Type* i32() const { return llvm::Type::getInt32Ty(ctx); }
  llvm::Type* i1() const { return llvm::Type::getInt1Ty(ctx); }
  llvm::PointerType* ptr() const { return llvm::PointerType::get(ctx, 0); }

  // Model functions, emitted on first use:
  //   void rhs/inverse/jacobian(double t, const double* y, double* out, const double* params,
  //                             const double* lag_ring, const int64_t* lag_head)
  //   void update_aux(double t, const double* y, const double* params, double* aux_out,
  //                   const double* lag_ring, const int64_t* lag_head)        (lag_shift = 1)
  llvm::Function* rhs_fn();
  llvm::Function* inverse_fn();   // null if the model has no inverse
  llvm::Function* jacobian_fn();  // null if the model has no jacobian
  llvm::Function* update_aux_fn();
  // A libm function double(double...) with the given name.
  llvm::FunctionCallee libm(const char* name, int arity);

  // Creates `name` with the given type and external linkage, attributes nounwind; returns it with
  // an entry block. Every function of a unit goes through here.
  llvm::Function* new_function(const std::string& name, llvm::FunctionType* ty);

  // !alias.scope {s} and !noalias {every other buffer} for BufferScope s (created on first use).
  llvm::MDNode* scope_set(int s);
  llvm::MDNode* noalias_set(int s);

 private:
  void make_buffer_scopes();
  std::vector<llvm::MDNode*> scope_sets_;
  std::vector<llvm::MDNode*> noalias_sets_;
  llvm::Function* block_fn(const char* name, const std::vector<ir::Expr>& es, int lag_shift, bool aux_order);
  mutable int inlined_[4] = {-1, -1, -1, -1};  // by ModelFn: -1 not yet counted
  llvm::Function* rhs_ = nullptr;
  llvm::Function* inverse_ = nullptr;
  llvm::Function* jacobian_ = nullptr;
  llvm::Function* aux_ = nullptr;
};

class LlvmBackend {
 public:
  using Val = LVal;
  using Bool = LBool;
  using Int = LInt;
  using Arr = LArr;
  using IArr = LIArr;
  using Var = LVar;
  using IVar = LIVar;
  using Ctx = kernels::EvalCtx<LlvmBackend>;

  // Emits into `fn` (positioned at the end of its entry block). With `lanes` > 1 a lane backend; with
  // `share`, it emits through share's IR builder (same function, same insertion point).
  LlvmBackend(ModuleGen& g, llvm::Function* fn, unsigned lanes = 1, LlvmBackend* share = nullptr);
  LlvmBackend(const LlvmBackend&) = delete;
  LlvmBackend& operator=(const LlvmBackend&) = delete;

  ModuleGen& gen() { return g_; }
  llvm::IRBuilder<>& ir() { return ir_; }
  llvm::Function* function() { return fn_; }
  llvm::Value* arg(unsigned i) { return fn_->getArg(i); }

  // The type of a Val: double, or <lanes x double> in lane mode.
  unsigned lanes() const { return lanes_; }
  llvm::Type* vt() const { return vt_; }

  // ---- literals and wrapping ----
  Val c(double v) { return Val{this, llvm::ConstantFP::get(vt_, v)}; }
  Int ci(std::int64_t v) {
    return Int{this, llvm::ConstantInt::get(g_.i64(), static_cast<std::uint64_t>(v), true)};
  }
  Bool ctrue() { return Bool{this, llvm::ConstantInt::getTrue(g_.ctx)}; }
  Bool cfalse() { return Bool{this, llvm::ConstantInt::getFalse(g_.ctx)}; }
  Val val(llvm::Value* v) { return Val{this, v}; }
  Int ival(llvm::Value* v) { return Int{this, v}; }
  Bool bval(llvm::Value* v) { return Bool{this, v}; }
  Arr arr(llvm::Value* p) { return Arr{this, p}; }
  IArr iarr(llvm::Value* p) { return IArr{this, p}; }
  Arr offset(Arr a, int k) { return Arr{this, gep_f64(a.base, k), a.scope}; }
  Arr offset(Arr a, Int k) {
    return Arr{this, ir_.CreateInBoundsGEP(g_.f64(), a.base, scaled(k.v)), a.scope};
  }
  IArr offset(IArr a, int k) {
    return IArr{this, ir_.CreateInBoundsGEP(g_.i64(), a.base, ir_.getInt64(static_cast<std::uint64_t>(k))),
                a.scope};
  }
  IArr offset(IArr a, Int k) { return IArr{this, ir_.CreateInBoundsGEP(g_.i64(), a.base, k.v), a.scope}; }
  // Distinct host buffers (RunnerArgs guarantees y_curr, y_prev, params, ws, records, ... never
  // overlap): an access through an Arr with BufferScope s is tagged !alias.scope {s} and !noalias
  // {every other buffer}, so O3 may keep values in registers across stores to other buffers.
  // Accesses without a scope (-1) stay conservative.
  Arr arr(llvm::Value* p, int scope) { return Arr{this, p, scope}; }
  IArr iarr(llvm::Value* p, int scope) { return IArr{this, p, scope}; }
  void tag_access(llvm::Instruction* inst, int scope);

  Var var(Val init) { return Var(this, init); }
  IVar ivar(Int init) { return IVar(this, init); }

  // ---- logic (a scalar Bool combined with a lane Bool applies to every lane) ----
  Bool land(Bool a, Bool c) {
    widen(a.v, c.v);
    return Bool{this, ir_.CreateAnd(a.v, c.v)};
  }
  Bool lor(Bool a, Bool c) {
    widen(a.v, c.v);
    return Bool{this, ir_.CreateOr(a.v, c.v)};
  }
  Bool lnot(Bool a) { return Bool{this, ir_.CreateNot(a.v)}; }
  Val select(Bool cnd, Val a, Val c) { return Val{this, ir_.CreateSelect(cnd.v, a.v, c.v)}; }
  Int iselect(Bool cnd, Int a, Int c) { return Int{this, ir_.CreateSelect(cnd.v, a.v, c.v)}; }
  Bool bselect(Bool cnd, Bool a, Bool c) { return Bool{this, ir_.CreateSelect(cnd.v, a.v, c.v)}; }

  // ---- math (same results as the <cmath> calls of DirectBackend) ----
  Val sqrt(Val x);
  Val fabs(Val x);
  Val fmin(Val x, Val y);  // glibc fmin: x<y ? x : x>=y ? y : isnan(y) ? x : y
  Val fmax(Val x, Val y);
  Val pow(Val x, Val y);
  Val floor(Val x);
  Val exp(Val x);
  Val log(Val x);
  Bool isfinite(Val x);
  bool unroll(int n) const { return n <= g_.unroll_max; }
  Bool isnan(Val x);
  Val to_val(Int i) { return splat(ir_.CreateSIToFP(i.v, g_.f64())); }
  Int to_int(Val x);      // scalar mode only
  Val to_storage(Val x);  // kernels::storage_round with the dtype fixed at codegen time (float64: x itself)
  // static_cast<int64_t>(double) as the interpreter's machine code does it (cvttsd2si): NaN and
  // out-of-range give INT64_MIN. A plain fptosi would be poison there (undefined behaviour).
  llvm::Value* fptosi_x86(llvm::Value* x);
  Int imin(Int a, Int c) { return iselect(c < a, c, a); }
  Int imax(Int a, Int c) { return iselect(c > a, c, a); }
  // A call to a C function double f(double...) from libm (nobuiltin: never rewritten).
  Val call_libm(const char* name, std::initializer_list<Val> args);

  // ---- lanes (lane mode; with lanes == 1 they are the identity / bit 0) ----
  // A scalar double (e.g. from a scalar backend sharing the builder) in every lane.
  Val splat(llvm::Value* scalar) {
    return Val{this, lanes_ == 1 ? scalar : ir_.CreateVectorSplat(lanes_, scalar)};
  }
  Val splat(Val scalar) { return splat(scalar.v); }
  // Bit j of the result is lane j of a lane Bool (movmskpd).
  Int lane_bits(Bool m);
  // The lane Bool whose lane j is bit j of `bits`.
  Bool bits_mask(Int bits);
  // Lane j of x as a scalar double.
  llvm::Value* lane(Val x, unsigned j) { return lanes_ == 1 ? x.v : ir_.CreateExtractElement(x.v, j); }

  // ---- control flow ----
  template <class Then>
  void if_(Bool cnd, Then&& then_fn) {
    need_scalar(cnd);
    auto* thenb = block("if.then");
    auto* endb = block("if.end");
    ir_.CreateCondBr(cnd.v, thenb, endb);
    ir_.SetInsertPoint(thenb);
    then_fn();
    ir_.CreateBr(endb);
    ir_.SetInsertPoint(endb);
  }
  template <class Then, class Else>
  void if_(Bool cnd, Then&& then_fn, Else&& else_fn) {
    need_scalar(cnd);
    auto* thenb = block("if.then");
    auto* elseb = block("if.else");
    auto* endb = block("if.end");
    ir_.CreateCondBr(cnd.v, thenb, elseb);
    ir_.SetInsertPoint(thenb);
    then_fn();
    ir_.CreateBr(endb);
    ir_.SetInsertPoint(elseb);
    else_fn();
    ir_.CreateBr(endb);
    ir_.SetInsertPoint(endb);
  }
  template <class Cond, class Body>
  void while_(Cond&& cond_fn, Body&& body_fn) {
    auto* headb = block("while.cond");
    auto* bodyb = block("while.body");
    auto* endb = block("while.end");
    ir_.CreateBr(headb);
    ir_.SetInsertPoint(headb);
    Bool cnd = cond_fn();
    need_scalar(cnd);
    ir_.CreateCondBr(cnd.v, bodyb, endb);
    ir_.SetInsertPoint(bodyb);
    body_fn();
    ir_.CreateBr(headb);
    ir_.SetInsertPoint(endb);
  }
  // for (i = lo; i < hi; ++i) body(i)
  template <class Body>
  void for_(Int lo, Int hi, Body&& body_fn) {
    IVar i = ivar(lo);
    while_([&] { return i.get() < hi; },
           [&] {
             Int cur = i.get();
             body_fn(cur);
             i = cur + ci(1);
           });
  }

  // ---- model functions ----
  // Emits the lowered expression inline (left to right, Python semantics, bit-identical to the
  // interpreter's bytecode).
  Val eval(const ir::Expr& e, const Ctx& ctx);
  void rhs(Val t, Arr y, Arr out, Arr params, Arr lag_ring, IArr lag_head);
  void inverse(Val t, Arr y, Arr out, Arr params, Arr lag_ring, IArr lag_head);
  void jacobian(Val t, Arr y, Arr J, Arr params, Arr lag_ring, IArr lag_head);
  void update_aux(Val t, Arr y, Arr params, Arr aux_out, Arr lag_ring, IArr lag_head);
  void emit_block(ModelFn which, Val t, Arr y, Arr out, Arr params, Arr lag_ring, IArr lag_head);
  bool has_model_jacobian() const { return g_.model.exact_jacobian() != nullptr; }
  // Relaxed atomic load of *flag != 0, false if the flag pointer is null (set by the runner prologue).
  Bool user_break();
  void set_user_break_ptr(llvm::Value* p) { user_break_ptr_ = p; }
  bool has_inverse() const { return g_.model.inverse.has_value(); }
  const ir::ModelIR& model() const { return g_.model; }

  // ---- helpers for the backend implementation ----
  llvm::BasicBlock* block(const char* name) { return llvm::BasicBlock::Create(g_.ctx, name, fn_); }
  llvm::AllocaInst* entry_alloca(llvm::Type* ty, const char* name);
  // Element k of a double buffer (lane mode: the first lane of element k).
  llvm::Value* gep_f64(llvm::Value* base, std::int64_t k) {
    k *= lanes_;
    return k == 0 ? base : ir_.CreateConstInBoundsGEP1_64(g_.f64(), base, static_cast<std::uint64_t>(k));
  }
  // A runtime element index in doubles (lane mode: times lanes).
  llvm::Value* scaled(llvm::Value* k) {
    return lanes_ == 1 ? k : ir_.CreateMul(k, ir_.getInt64(lanes_), "", false, true);
  }
  // Loads / stores a Val (lane mode: 8-byte aligned, host buffers need not be 32-byte aligned).
  llvm::LoadInst* load_val(llvm::Value* ptr);
  llvm::StoreInst* store_val(llvm::Value* v, llvm::Value* ptr);
  llvm::Value* null_ptr() { return llvm::ConstantPointerNull::get(g_.ptr()); }
  Arr null_arr() { return Arr{this, null_ptr()}; }
  IArr null_iarr() { return IArr{this, null_ptr()}; }

 private:
  friend class ModuleGen;               // block_fn emits equations with the load cache
  llvm::Value* truthy(llvm::Value* x);  // x != 0 (NaN is truthy, as in Python)
  llvm::Value* emit(const ir::Node& n, const Ctx& ctx);
  llvm::Value* emit_call(const ir::Node& n, const Ctx& ctx);
  llvm::Value* emit_loop(const ir::Node& n, const Ctx& ctx);
  llvm::Value* arg_to_i64(const ir::Node& n, std::size_t i, const Ctx& ctx);
  llvm::Value* py_mod(llvm::Value* a, llvm::Value* b);
  llvm::Value* py_floordiv(llvm::Value* a, llvm::Value* b);

  // Branch conditions must be uniform (a logic_error names a kernel that branches on a lane Bool).
  void need_scalar(Bool c) const;
  // A scalar i1 next to a lane one becomes a splat, so they combine lane by lane.
  void widen(llvm::Value*& a, llvm::Value*& c);

  ModuleGen& g_;
  llvm::Function* fn_;
  unsigned lanes_ = 1;
  llvm::Type* vt_ = nullptr;
  llvm::IRBuilder<> own_ir_;
  llvm::IRBuilder<>& ir_;  // own_ir_, or the builder of the backend this one shares it with
  std::map<int, llvm::Value*> loop_vars_;
  llvm::Value* user_break_ptr_ = nullptr;  // const int32_t* (may be null at run time)
  // While a model function is emitted in place: !{its call scope} (see emit_block), else null.
  llvm::MDNode* call_scope_ = nullptr;
  // While a model function's equations are emitted (emit_block, ModuleGen::block_fn): the state and
  // parameter values loaded so far, reused by later equations in the same basic block. Its outputs are
  // stored between the equations, and in a long block LLVM no longer proves that a later load of the
  // same input sees the same value (its memory-dependence scans are limited), so without this the
  // expressions the equations share (Pleiades: every distance appears in two equations) and their libm
  // calls were computed twice. Same values, same operations: the results do not change.
  struct LoadCache {
    llvm::Value* base = nullptr;  // the array the values come from
    std::vector<std::pair<llvm::Value*, llvm::BasicBlock*>> at;
  };
  LoadCache state_cache_, param_cache_;
  void begin_load_cache(LArr y, LArr params);
  void end_load_cache();
  llvm::Value* cached_load(LoadCache& cache, LArr a, std::int64_t k);
  static constexpr int kCallOutput = -2;  // the "scope" of an in-place call's output array
};

}  // namespace dynlib::jit
