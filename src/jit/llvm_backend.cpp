// The LLVM backend: value wrappers, math, and the inline emitter of lowered ir::Expr.
// Mirrors src/interp/bytecode.cpp + src/kernels/pymath.hpp operation for operation, so that the
// JIT and the interpreter give bit-identical results (docs/internals/kernels.md).
#include "jit/llvm_backend.hpp"

#include <llvm/IR/Attributes.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

#include <cstdint>
#include <cstdlib>
#include <stdexcept>

#include "dynlib/errors.hpp"
#include "jit/jit_tuning.hpp"
#include "util/deep_stack.hpp"

namespace dynlib::jit {

// ---------------------------------------------------------------------------------------------
// Value wrappers

LRef::LRef(LlvmBackend* bb, llvm::Value* p, int sc) : b(bb), ptr(p), scope(sc) {
  auto* ld = b->load_val(ptr);
  b->tag_access(ld, scope);
  loaded = ld;
}
LRef& LRef::operator=(LVal v) {
  b->tag_access(b->store_val(v.v, ptr), scope);
  loaded = v.v;
  return *this;
}
LIRef::LIRef(LlvmBackend* bb, llvm::Value* p, int sc) : b(bb), ptr(p), scope(sc) {
  auto* ld = b->ir().CreateLoad(b->gen().i64(), ptr);
  b->tag_access(ld, scope);
  loaded = ld;
}
LIRef& LIRef::operator=(LInt v) {
  b->tag_access(b->ir().CreateStore(v.v, ptr), scope);
  loaded = v.v;
  return *this;
}

LRef LArr::operator[](int i) const { return (*this)[static_cast<std::int64_t>(i)]; }
LRef LArr::operator[](std::int64_t i) const { return LRef(b, b->gep_f64(base, i), scope); }
LRef LArr::operator[](LInt i) const {
  return LRef(b, b->ir().CreateInBoundsGEP(b->gen().f64(), base, b->scaled(i.v)), scope);
}
LIRef LIArr::operator[](int i) const { return (*this)[static_cast<std::int64_t>(i)]; }
LIRef LIArr::operator[](std::int64_t i) const {
  auto* p =
      i == 0 ? base : b->ir().CreateConstInBoundsGEP1_64(b->gen().i64(), base, static_cast<std::uint64_t>(i));
  return LIRef(b, p, scope);
}
LIRef LIArr::operator[](LInt i) const {
  return LIRef(b, b->ir().CreateInBoundsGEP(b->gen().i64(), base, i.v), scope);
}

LVar::LVar(LlvmBackend* bb, LVal init) : b(bb), slot(bb->entry_alloca(bb->vt(), "var")) {
  b->ir().CreateStore(init.v, slot);
}
LVar::LVar(const LVar& o) : LVar(o.b, o.get()) {}
LVal LVar::get() const { return LVal{b, b->ir().CreateLoad(b->vt(), slot)}; }
LVar& LVar::operator=(LVal v) {
  b->ir().CreateStore(v.v, slot);
  return *this;
}
LIVar::LIVar(LlvmBackend* bb, LInt init) : b(bb), slot(bb->entry_alloca(bb->gen().i64(), "ivar")) {
  b->ir().CreateStore(init.v, slot);
}
LIVar::LIVar(const LIVar& o) : LIVar(o.b, o.get()) {}
LInt LIVar::get() const { return LInt{b, b->ir().CreateLoad(b->gen().i64(), slot)}; }
LIVar& LIVar::operator=(LInt v) {
  b->ir().CreateStore(v.v, slot);
  return *this;
}

#define DYN_FOP(OP, CREATE) \
  LVal operator OP(LVal a, LVal c) { return LVal{a.b, a.b->ir().CREATE(a.v, c.v)}; }
DYN_FOP(+, CreateFAdd)
DYN_FOP(-, CreateFSub)
DYN_FOP(*, CreateFMul)
DYN_FOP(/, CreateFDiv)
#undef DYN_FOP
LVal operator-(LVal a) { return LVal{a.b, a.b->ir().CreateFNeg(a.v)}; }
#define DYN_FCMP(OP, CREATE) \
  LBool operator OP(LVal a, LVal c) { return LBool{a.b, a.b->ir().CREATE(a.v, c.v)}; }
DYN_FCMP(<, CreateFCmpOLT)
DYN_FCMP(<=, CreateFCmpOLE)
DYN_FCMP(>, CreateFCmpOGT)
DYN_FCMP(>=, CreateFCmpOGE)
DYN_FCMP(==, CreateFCmpOEQ)
DYN_FCMP(!=, CreateFCmpUNE)
#undef DYN_FCMP
#define DYN_IOP(OP, CREATE) \
  LInt operator OP(LInt a, LInt c) { return LInt{a.b, a.b->ir().CREATE(a.v, c.v)}; }
DYN_IOP(+, CreateAdd)
DYN_IOP(-, CreateSub)
DYN_IOP(*, CreateMul)
DYN_IOP(/, CreateSDiv)
DYN_IOP(%, CreateSRem)
#undef DYN_IOP
LInt operator-(LInt a) { return LInt{a.b, a.b->ir().CreateNeg(a.v)}; }
#define DYN_ICMP(OP, CREATE) \
  LBool operator OP(LInt a, LInt c) { return LBool{a.b, a.b->ir().CREATE(a.v, c.v)}; }
DYN_ICMP(<, CreateICmpSLT)
DYN_ICMP(<=, CreateICmpSLE)
DYN_ICMP(>, CreateICmpSGT)
DYN_ICMP(>=, CreateICmpSGE)
DYN_ICMP(==, CreateICmpEQ)
DYN_ICMP(!=, CreateICmpNE)
#undef DYN_ICMP

// ---------------------------------------------------------------------------------------------
// ModuleGen

ModuleGen::ModuleGen(llvm::LLVMContext& c, llvm::Module& m, const ir::ModelIR& mdl)
    : ctx(c), mod(m), model(mdl) {
  const JitTuning& tuning = JitTuning::get();
  if (const char* env = JitTuning::c_str_or_null(tuning.unroll_max)) unroll_max = std::atoi(env);
  if (const char* env = JitTuning::c_str_or_null(tuning.local_state_max)) local_state_max = std::atoll(env);
  if (const char* env = JitTuning::c_str_or_null(tuning.slp_min_states))
    slp_min_states = static_cast<std::size_t>(std::atoll(env));
  if (const char* env = JitTuning::c_str_or_null(tuning.inline_max))
    inline_max_nodes = static_cast<std::size_t>(std::atoll(env));
  // Read by OrcEngine::optimize(): only modules with runtime state loops get the loop unroller and
  // vectorizers (with unrolled state loops they only duplicate the run loop's cold record loops).
  if (static_cast<std::int64_t>(model.n_states()) > unroll_max)
    mod.addModuleFlag(llvm::Module::Warning, "dynlib.runtime_state_loops", 1);
}

llvm::Function* ModuleGen::new_function(const std::string& name, llvm::FunctionType* ty) {
  if (mod.getFunction(name) != nullptr) throw std::logic_error("jit: function emitted twice: " + name);
  auto* f = llvm::Function::Create(ty, llvm::Function::ExternalLinkage, name, mod);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::BasicBlock::Create(ctx, "entry", f);
  return f;
}

void ModuleGen::make_buffer_scopes() {
  llvm::MDBuilder mdb(ctx);
  auto* domain = mdb.createAnonymousAliasScopeDomain("dynlib.buffers");
  std::vector<llvm::MDNode*> scopes;
  for (int k = 0; k < kBufferScopeCount; ++k) scopes.push_back(mdb.createAnonymousAliasScope(domain));
  for (int k = 0; k < kBufferScopeCount; ++k) {
    scope_sets_.push_back(llvm::MDNode::get(ctx, {scopes[static_cast<std::size_t>(k)]}));
    std::vector<llvm::Metadata*> others;
    for (int j = 0; j < kBufferScopeCount; ++j)
      if (j != k) others.push_back(scopes[static_cast<std::size_t>(j)]);
    noalias_sets_.push_back(llvm::MDNode::get(ctx, others));
  }
}
llvm::MDNode* ModuleGen::scope_set(int s) {
  if (scope_sets_.empty()) make_buffer_scopes();
  return scope_sets_[static_cast<std::size_t>(s)];
}
llvm::MDNode* ModuleGen::noalias_set(int s) {
  if (noalias_sets_.empty()) make_buffer_scopes();
  return noalias_sets_[static_cast<std::size_t>(s)];
}

llvm::FunctionCallee ModuleGen::libm(const char* name, int arity) {
  std::vector<llvm::Type*> params(static_cast<std::size_t>(arity), f64());
  return mod.getOrInsertFunction(name, llvm::FunctionType::get(f64(), params, false));
}

namespace {
std::size_t count_nodes(const ir::Node& n);
}  // namespace

llvm::Function* ModuleGen::block_fn(const char* name, const std::vector<ir::Expr>& es, int lag_shift,
                                    bool aux_order) {
  auto* p = ptr();
  // rhs-like: (t, y, out, params, ring, head); aux: (t, y, params, out, ring, head)
  auto* ty = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {f64(), p, p, p, p, p}, false);
  auto* f = new_function(name, ty);
  // Equations [from, to) into fn, in order.
  auto emit = [&](llvm::Function* fn, std::size_t from, std::size_t to) {
    LlvmBackend b(*this, fn);
    llvm::Value* out = aux_order ? fn->getArg(3) : fn->getArg(2);
    llvm::Value* params = aux_order ? fn->getArg(2) : fn->getArg(3);
    LlvmBackend::Ctx c{b.val(fn->getArg(0)), b.arr(fn->getArg(1)),  b.arr(params),
                       b.arr(fn->getArg(4)), b.iarr(fn->getArg(5)), lag_shift};
    auto o = b.arr(out);
    b.begin_load_cache(c.y, c.params);
    for (std::size_t k = from; k < to; ++k) o[static_cast<std::int64_t>(k)] = b.eval(es[k], c);
    b.end_load_cache();
    b.ir().CreateRetVoid();
  };
  // Long blocks (generated models with thousands of equations, more than split_min_nodes expression
  // nodes) are split into parts of about part_max_nodes nodes, each its own function that is never
  // inlined, called in equation order (the same operations, the same bits). Without the split the one
  // huge function made the module "large" (orc_engine.cpp: short pipeline, unoptimised code
  // generation), and the 2048-state Brusselator's rhs ran 3-4x slower than Odeint's compiled C++; with
  // it every part gets the full pipeline at a compile time linear in the number of parts. Shorter blocks
  // stay whole: a subexpression that several equations share is computed once only within a part.
  std::vector<std::size_t> cuts{0};
  std::size_t nodes = 0;
  const bool split = count_nodes(es) > split_min_nodes;
  for (std::size_t k = 0; split && k < es.size(); ++k) {
    const std::size_t nk = es[k] ? jit::count_nodes(*es[k]) : 0;
    if (nodes > 0 && nodes + nk > part_max_nodes) {
      cuts.push_back(k);
      nodes = 0;
    }
    nodes += nk;
  }
  cuts.push_back(es.size());
  if (cuts.size() <= 2) {
    emit(f, 0, es.size());
    return f;
  }
  llvm::IRBuilder<> call(ctx);
  call.SetInsertPoint(&f->getEntryBlock());
  std::vector<llvm::Value*> args;
  for (auto& a : f->args()) args.push_back(&a);
  for (std::size_t p = 0; p + 1 < cuts.size(); ++p) {
    auto* part = new_function(std::string(name) + ".part" + std::to_string(p), ty);
    part->setLinkage(llvm::Function::InternalLinkage);
    part->addFnAttr(llvm::Attribute::NoInline);
    emit(part, cuts[p], cuts[p + 1]);
    call.CreateCall(part, args);
  }
  call.CreateRetVoid();
  return f;
}

namespace {
std::size_t count_nodes(const ir::Node& n) {
  std::size_t c = 1;
  for (const auto& a : n.args)
    if (a) c += count_nodes(*a);
  return c;
}
}  // namespace

std::size_t ModuleGen::count_nodes(const std::vector<ir::Expr>& es) {
  std::size_t c = 0;
  for (const auto& e : es)
    if (e) c += jit::count_nodes(*e);
  return c;
}

const std::vector<ir::Expr>& ModuleGen::exprs_of(ModelFn which, std::vector<ir::Expr>& flat) const {
  switch (which) {
    case ModelFn::rhs:
      return model.rhs;
    case ModelFn::inverse:
      return *model.inverse;
    case ModelFn::update_aux:
      return model.aux_exprs;
    case ModelFn::jacobian:
      // Row-major J[i*n+j], evaluated in row order (as the interpreter's block).
      flat.clear();
      for (const auto& row : *model.exact_jacobian())
        for (const auto& e : row) flat.push_back(e);
      return flat;
  }
  return model.rhs;
}

bool ModuleGen::inlined(ModelFn which) const {
  auto& known = inlined_[static_cast<std::size_t>(which)];
  if (known < 0) {
    std::vector<ir::Expr> flat;
    known = count_nodes(exprs_of(which, flat)) <= inline_max_nodes ? 1 : 0;
  }
  return known == 1;
}

llvm::Function* ModuleGen::rhs_fn() {
  if (!rhs_) rhs_ = block_fn("rhs", model.rhs, 0, false);
  return rhs_;
}
llvm::Function* ModuleGen::inverse_fn() {
  if (!model.inverse) return nullptr;
  if (!inverse_) inverse_ = block_fn("inverse", *model.inverse, 0, false);
  return inverse_;
}
llvm::Function* ModuleGen::jacobian_fn() {
  if (!model.exact_jacobian()) return nullptr;  // the model's own, else the symbolic one
  if (!jacobian_) {
    std::vector<ir::Expr> flat;
    jacobian_ = block_fn("jacobian", exprs_of(ModelFn::jacobian, flat), 0, false);
  }
  return jacobian_;
}
llvm::Function* ModuleGen::update_aux_fn() {
  if (!aux_) aux_ = block_fn("update_aux", model.aux_exprs, 1, true);
  return aux_;
}

// ---------------------------------------------------------------------------------------------
// LlvmBackend

LlvmBackend::LlvmBackend(ModuleGen& g, llvm::Function* fn, unsigned lanes, LlvmBackend* share)
    : g_(g),
      fn_(fn),
      lanes_(lanes < 1 ? 1 : lanes),
      vt_(lanes_ == 1 ? g.f64() : static_cast<llvm::Type*>(llvm::FixedVectorType::get(g.f64(), lanes_))),
      own_ir_(g.ctx),
      ir_(share != nullptr ? share->ir_ : own_ir_) {
  if (share != nullptr) return;  // the sharing backend positioned the builder
  ir_.SetInsertPoint(&fn->getEntryBlock());
  // Strict IEEE: the builder never adds fast-math flags (default FastMathFlags are all off).
  ir_.setFastMathFlags(llvm::FastMathFlags());
}

void LlvmBackend::tag_access(llvm::Instruction* inst, int scope) {
  if (scope == kCallOutput) {  // an output of the model function being emitted in place
    if (call_scope_ != nullptr) inst->setMetadata(llvm::LLVMContext::MD_alias_scope, call_scope_);
    return;
  }
  llvm::MDNode* noalias = scope >= 0 ? g_.noalias_set(scope) : nullptr;
  if (scope >= 0) inst->setMetadata(llvm::LLVMContext::MD_alias_scope, g_.scope_set(scope));
  // Inside an in-place call every other access is an input of it: never the call's output.
  if (call_scope_ != nullptr) noalias = llvm::MDNode::concatenate(noalias, call_scope_);
  if (noalias != nullptr) inst->setMetadata(llvm::LLVMContext::MD_noalias, noalias);
}

llvm::AllocaInst* LlvmBackend::entry_alloca(llvm::Type* ty, const char* name) {
  llvm::BasicBlock& entry = fn_->getEntryBlock();
  llvm::IRBuilder<> tmp(&entry, entry.getFirstInsertionPt());
  return tmp.CreateAlloca(ty, nullptr, name);
}

llvm::LoadInst* LlvmBackend::load_val(llvm::Value* ptr) {
  auto* ld = ir_.CreateLoad(vt_, ptr);
  if (lanes_ > 1) ld->setAlignment(llvm::Align(8));
  return ld;
}
llvm::StoreInst* LlvmBackend::store_val(llvm::Value* v, llvm::Value* ptr) {
  auto* st = ir_.CreateStore(v, ptr);
  if (lanes_ > 1) st->setAlignment(llvm::Align(8));
  return st;
}

void LlvmBackend::need_scalar(LBool c) const {
  if (c.v->getType()->isVectorTy())
    throw std::logic_error("jit: a branch on a lane condition (lane kernels branch on lane_bits)");
}
void LlvmBackend::widen(llvm::Value*& a, llvm::Value*& c) {
  const bool va = a->getType()->isVectorTy(), vc = c->getType()->isVectorTy();
  if (va && !vc) c = ir_.CreateVectorSplat(lanes_, c);
  if (vc && !va) a = ir_.CreateVectorSplat(lanes_, a);
}
LInt LlvmBackend::to_int(LVal x) {
  if (lanes_ > 1) throw std::logic_error("jit: to_int of a lane value (Int is uniform across lanes)");
  return LInt{this, fptosi_x86(x.v)};
}
LInt LlvmBackend::lane_bits(LBool m) {
  if (!m.v->getType()->isVectorTy()) return LInt{this, ir_.CreateZExt(m.v, g_.i64())};
  auto* bits = ir_.CreateBitCast(m.v, ir_.getIntNTy(lanes_));
  return LInt{this, ir_.CreateZExt(bits, g_.i64())};
}
LBool LlvmBackend::bits_mask(LInt bits) {
  auto* low = ir_.CreateTrunc(bits.v, ir_.getIntNTy(lanes_));
  if (lanes_ == 1) return LBool{this, low};
  return LBool{this, ir_.CreateBitCast(low, llvm::FixedVectorType::get(g_.i1(), lanes_))};
}

LVal LlvmBackend::call_libm(const char* name, std::initializer_list<LVal> args) {
  std::vector<llvm::Value*> vs;
  for (const auto& a : args) vs.push_back(a.v);
  auto callee = g_.libm(name, static_cast<int>(vs.size()));
  if (lanes_ > 1) {
    // No vector libm rounds like the scalar one: one scalar call per lane.
    llvm::Value* out = llvm::PoisonValue::get(vt_);
    for (unsigned j = 0; j < lanes_; ++j) {
      std::vector<llvm::Value*> lv;
      for (auto* v : vs) lv.push_back(ir_.CreateExtractElement(v, j));
      auto* call = ir_.CreateCall(callee, lv);
      call->addFnAttr(llvm::Attribute::NoBuiltin);
      call->addFnAttr(llvm::Attribute::NoUnwind);
      call->addFnAttr(llvm::Attribute::WillReturn);
      call->addFnAttr(llvm::Attribute::getWithMemoryEffects(g_.ctx, llvm::MemoryEffects::none()));
      out = ir_.CreateInsertElement(out, call, j);
    }
    return LVal{this, out};
  }
  auto* call = ir_.CreateCall(callee, vs);
  // nobuiltin: LLVM must not treat it as the C library function (no constant folding with the
  // host's libm at compile time, no pow->sqrt/mul, no sin+cos->sincos): the JIT then calls the very
  // same libm entry points as the interpreter. The call has no memory effects we care about, so
  // identical calls may still be merged (same input, same output).
  call->addFnAttr(llvm::Attribute::NoBuiltin);
  call->addFnAttr(llvm::Attribute::NoUnwind);
  call->addFnAttr(llvm::Attribute::WillReturn);
  call->addFnAttr(llvm::Attribute::getWithMemoryEffects(g_.ctx, llvm::MemoryEffects::none()));
  return LVal{this, call};
}

LVal LlvmBackend::sqrt(LVal x) {
  return LVal{this, ir_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x.v)};  // correctly rounded, as sqrtsd
}
LVal LlvmBackend::to_storage(LVal x) {
  switch (g_.model.dtype) {
    case ir::DType::float32: {
      llvm::Type* f32 = ir_.getFloatTy();
      if (lanes_ > 1) f32 = llvm::FixedVectorType::get(f32, lanes_);
      return LVal{this, ir_.CreateFPExt(ir_.CreateFPTrunc(x.v, f32), vt_)};
    }
    case ir::DType::int64: {
      auto* t = ir_.CreateUnaryIntrinsic(llvm::Intrinsic::trunc, x.v);
      return LVal{this, ir_.CreateFAdd(t, llvm::ConstantFP::get(vt_, 0.0))};
    }
    default:
      return x;
  }
}
LVal LlvmBackend::fabs(LVal x) { return LVal{this, ir_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x.v)}; }
LVal LlvmBackend::floor(LVal x) { return LVal{this, ir_.CreateUnaryIntrinsic(llvm::Intrinsic::floor, x.v)}; }
LVal LlvmBackend::fmin(LVal x, LVal y) {
  // glibc fmin: isless(x,y) ? x : isgreaterequal(x,y) ? y : (isnan(y) ? x : y). Spelled out so the
  // choice between +0 and -0 matches the C library bit for bit.
  auto* lt = ir_.CreateFCmpOLT(x.v, y.v);
  auto* ge = ir_.CreateFCmpOGE(x.v, y.v);
  auto* ynan = ir_.CreateFCmpUNO(y.v, y.v);
  auto* nanpick = ir_.CreateSelect(ynan, x.v, y.v);
  return LVal{this, ir_.CreateSelect(lt, x.v, ir_.CreateSelect(ge, y.v, nanpick))};
}
LVal LlvmBackend::fmax(LVal x, LVal y) {
  auto* gt = ir_.CreateFCmpOGT(x.v, y.v);
  auto* le = ir_.CreateFCmpOLE(x.v, y.v);
  auto* ynan = ir_.CreateFCmpUNO(y.v, y.v);
  auto* nanpick = ir_.CreateSelect(ynan, x.v, y.v);
  return LVal{this, ir_.CreateSelect(gt, x.v, ir_.CreateSelect(le, y.v, nanpick))};
}
LVal LlvmBackend::pow(LVal x, LVal y) { return call_libm("pow", {x, y}); }
LVal LlvmBackend::exp(LVal x) { return call_libm("exp", {x}); }
LVal LlvmBackend::log(LVal x) { return call_libm("log", {x}); }
LBool LlvmBackend::isfinite(LVal x) {
  auto* ax = ir_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x.v);
  return LBool{this, ir_.CreateFCmpOLT(ax, llvm::ConstantFP::getInfinity(vt_))};
}
LBool LlvmBackend::user_break() {
  if (user_break_ptr_ == nullptr) return cfalse();
  auto* from = ir_.GetInsertBlock();
  auto* loadb = block("ub.load");
  auto* endb = block("ub.end");
  ir_.CreateCondBr(ir_.CreateIsNull(user_break_ptr_), endb, loadb);
  ir_.SetInsertPoint(loadb);
  auto* ld = ir_.CreateLoad(g_.i32(), user_break_ptr_);
  ld->setAtomic(llvm::AtomicOrdering::Monotonic);  // std::memory_order_relaxed
  ld->setAlignment(llvm::Align(4));
  auto* set = ir_.CreateICmpNE(ld, ir_.getInt32(0));
  ir_.CreateBr(endb);
  ir_.SetInsertPoint(endb);
  auto* phi = ir_.CreatePHI(g_.i1(), 2);
  phi->addIncoming(ir_.getFalse(), from);
  phi->addIncoming(set, loadb);
  return LBool{this, phi};
}

llvm::Value* LlvmBackend::fptosi_x86(llvm::Value* x) {
  auto* ax = ir_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  auto* in_range = ir_.CreateFCmpOLT(ax, llvm::ConstantFP::get(g_.f64(), 9223372036854775808.0));  // 2^63
  auto* conv = ir_.CreateFPToSI(x, g_.i64());  // poison out of range, but then not selected
  return ir_.CreateSelect(in_range, conv, ir_.getInt64(static_cast<std::uint64_t>(INT64_MIN)));
}

LBool LlvmBackend::isnan(LVal x) { return LBool{this, ir_.CreateFCmpUNO(x.v, x.v)}; }

// Model functions small enough to inline are emitted in place, not called: LLVM's inliner gives
// every inlined copy fresh copies of the callee's alias scopes, so a called function's loads could
// never carry the runner's buffer scopes. In place they do (parameters: sP, so O3 hoists them out of
// the step loop), and one alias domain per call site says what the callee's `noalias` output said:
// the outputs of this call never overlap its inputs (kernels pass distinct workspace slices).
void LlvmBackend::emit_block(ModelFn which, LVal t, LArr y, LArr out, LArr params, LArr ring, LIArr head) {
  llvm::Function* plain = which == ModelFn::rhs        ? g_.rhs_fn()
                          : which == ModelFn::inverse  ? g_.inverse_fn()
                          : which == ModelFn::jacobian ? g_.jacobian_fn()
                                                       : g_.update_aux_fn();
  const bool aux = which == ModelFn::update_aux;
  if (!g_.inlined(which) && lanes_ == 1) {  // lane code has no out-of-line (scalar) model functions
    if (aux)
      ir_.CreateCall(plain, {t.v, y.base, params.base, out.base, ring.base, head.base});
    else
      ir_.CreateCall(plain, {t.v, y.base, out.base, params.base, ring.base, head.base});
    return;
  }
  llvm::MDBuilder mdb(g_.ctx);
  auto* domain = mdb.createAnonymousAliasScopeDomain("dynlib.call");
  call_scope_ = llvm::MDNode::get(g_.ctx, {mdb.createAnonymousAliasScope(domain)});
  std::vector<ir::Expr> flat;
  const auto& es = g_.exprs_of(which, flat);
  Ctx c{t, y, params, ring, head, aux ? 1 : 0};
  // The outputs carry only the call scope, not their buffer's: tagged with sWs as well, Lorenz-96
  // (40 states) rk4 ran 1.19x instead of 1.0x hand-written C++ (bench/jit_vs_native, side by side).
  LArr o{this, out.base, kCallOutput};
  begin_load_cache(y, params);
  for (std::size_t k = 0; k < es.size(); ++k) o[static_cast<std::int64_t>(k)] = eval(es[k], c);
  end_load_cache();
  call_scope_ = nullptr;
}

void LlvmBackend::begin_load_cache(LArr y, LArr params) {
  // Small models only: in the long straight-line code of a large one the reused values would stay
  // live across many equations (register pressure, spills). Parameters too: with them cached, rk45 on
  // the 2048-state Brusselator (bench/work_precision) ran about 20% slower.
  const auto small = [&](std::size_t count) { return count <= static_cast<std::size_t>(g_.unroll_max); };
  state_cache_ = {};
  param_cache_ = {};
  if (small(g_.model.n_states()))
    state_cache_ = {y.base, std::vector<std::pair<llvm::Value*, llvm::BasicBlock*>>(g_.model.n_states())};
  if (small(g_.model.n_params()) && small(g_.model.n_states()))
    param_cache_ = {params.base,
                    std::vector<std::pair<llvm::Value*, llvm::BasicBlock*>>(g_.model.n_params())};
}
void LlvmBackend::end_load_cache() {
  state_cache_ = {};
  param_cache_ = {};
}
llvm::Value* LlvmBackend::cached_load(LoadCache& cache, LArr a, std::int64_t k) {
  // A value loaded in another block may not dominate this use (expressions with loops make blocks).
  const bool use = cache.base != nullptr && cache.base == a.base && k >= 0 &&
                   k < static_cast<std::int64_t>(cache.at.size());
  auto* block = ir_.GetInsertBlock();
  if (use && cache.at[static_cast<std::size_t>(k)].first != nullptr &&
      cache.at[static_cast<std::size_t>(k)].second == block)
    return cache.at[static_cast<std::size_t>(k)].first;
  llvm::Value* v = LVal(a[k]).v;
  if (use) cache.at[static_cast<std::size_t>(k)] = {v, block};
  return v;
}
void LlvmBackend::rhs(LVal t, LArr y, LArr out, LArr params, LArr ring, LIArr head) {
  emit_block(ModelFn::rhs, t, y, out, params, ring, head);
}
void LlvmBackend::inverse(LVal t, LArr y, LArr out, LArr params, LArr ring, LIArr head) {
  if (!g_.model.inverse) throw JitError("jit: the model has no [equations.inverse]");
  emit_block(ModelFn::inverse, t, y, out, params, ring, head);
}
void LlvmBackend::jacobian(LVal t, LArr y, LArr J, LArr params, LArr ring, LIArr head) {
  if (!g_.model.exact_jacobian()) throw JitError("jit: the model has no [equations.jacobian]");
  emit_block(ModelFn::jacobian, t, y, J, params, ring, head);
}
void LlvmBackend::update_aux(LVal t, LArr y, LArr params, LArr aux_out, LArr ring, LIArr head) {
  emit_block(ModelFn::update_aux, t, y, aux_out, params, ring, head);
}

// ---------------------------------------------------------------------------------------------
// Expressions

llvm::Value* LlvmBackend::truthy(llvm::Value* x) {
  return ir_.CreateFCmpUNE(x, llvm::ConstantFP::get(vt_, 0.0));  // bytecode: x != 0.0
}

LVal LlvmBackend::eval(const ir::Expr& e, const Ctx& ctx) {
  if (!e) throw std::logic_error("jit: null expression");
  return LVal{this, emit(*e, ctx)};
}

llvm::Value* LlvmBackend::py_mod(llvm::Value* vx, llvm::Value* wx) {
  // pymath.hpp py::mod, with frem = C fmod (exact).
  auto* zero = llvm::ConstantFP::get(vt_, 0.0);
  auto* m = ir_.CreateFRem(vx, wx);
  auto* nz = ir_.CreateFCmpUNE(m, zero);
  auto* wneg = ir_.CreateFCmpOLT(wx, zero);
  auto* mneg = ir_.CreateFCmpOLT(m, zero);
  auto* fix = ir_.CreateICmpNE(wneg, mneg);
  auto* madj = ir_.CreateSelect(fix, ir_.CreateFAdd(m, wx), m);
  auto* zs = ir_.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, zero, wx);
  return ir_.CreateSelect(nz, madj, zs);
}

llvm::Value* LlvmBackend::py_floordiv(llvm::Value* vx, llvm::Value* wx) {
  auto* zero = llvm::ConstantFP::get(vt_, 0.0);
  auto* one = llvm::ConstantFP::get(vt_, 1.0);
  auto* half = llvm::ConstantFP::get(vt_, 0.5);
  auto* m = ir_.CreateFRem(vx, wx);
  auto* div0 = ir_.CreateFDiv(ir_.CreateFSub(vx, m), wx);
  auto* nz = ir_.CreateFCmpUNE(m, zero);
  auto* wneg = ir_.CreateFCmpOLT(wx, zero);
  auto* mneg = ir_.CreateFCmpOLT(m, zero);
  auto* fix = ir_.CreateAnd(nz, ir_.CreateICmpNE(wneg, mneg));
  auto* div = ir_.CreateSelect(fix, ir_.CreateFSub(div0, one), div0);
  auto* fd0 = ir_.CreateUnaryIntrinsic(llvm::Intrinsic::floor, div);
  auto* up = ir_.CreateFCmpOGT(ir_.CreateFSub(div, fd0), half);
  auto* fd = ir_.CreateSelect(up, ir_.CreateFAdd(fd0, one), fd0);
  auto* zs = ir_.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, zero, ir_.CreateFDiv(vx, wx));
  auto* divnz = ir_.CreateFCmpUNE(div, zero);
  return ir_.CreateSelect(divnz, fd, zs);
}

llvm::Value* LlvmBackend::emit(const ir::Node& n, const Ctx& ctx) {
  using ir::Op;
  if (util::stack_low()) throw JitError("expression nested too deeply to compile");
  auto* F = vt_;
  auto arg = [&](std::size_t i) -> llvm::Value* {
    if (i >= n.args.size() || !n.args[i]) throw std::logic_error("jit: malformed expression node");
    return emit(*n.args[i], ctx);
  };
  auto b2d = [&](llvm::Value* i1) { return ir_.CreateUIToFP(i1, F); };
  switch (n.op) {
    case Op::Const:
      return llvm::ConstantFP::get(F, n.value);
    case Op::State:
      return cached_load(state_cache_, ctx.y, static_cast<std::int64_t>(n.index));
    case Op::Param:
      return cached_load(param_cache_, ctx.params, static_cast<std::int64_t>(n.index));
    case Op::Time:
      return ctx.t.v;
    case Op::Lag: {
      if (lanes_ > 1) throw JitError("lagged states do not run in lanes");
      const auto& lags = g_.model.lags;
      if (n.index < 0 || n.index >= static_cast<int>(lags.size()))
        throw std::logic_error("jit: bad lag slot");
      const auto& L = lags[static_cast<std::size_t>(n.index)];
      // idx = (head - k + shift) % depth; if (idx < 0) idx += depth   (bytecode.cpp BC::Lag)
      llvm::Value* head = LInt(ctx.lag_head[static_cast<std::int64_t>(n.index)]).v;
      auto* depth = ir_.getInt64(static_cast<std::uint64_t>(L.depth));
      auto* raw =
          ir_.CreateAdd(head, ir_.getInt64(static_cast<std::uint64_t>(std::int64_t{ctx.lag_shift} - n.k)));
      auto* rem = ir_.CreateSRem(raw, depth);
      auto* idx = ir_.CreateSelect(ir_.CreateICmpSLT(rem, ir_.getInt64(0)), ir_.CreateAdd(rem, depth), rem);
      auto* pos = ir_.CreateAdd(idx, ir_.getInt64(static_cast<std::uint64_t>(L.offset)));
      return ir_.CreateLoad(F, ir_.CreateInBoundsGEP(F, ctx.lag_ring.base, pos));
    }
    case Op::LoopVar: {
      auto it = loop_vars_.find(n.index);
      if (it == loop_vars_.end()) throw std::logic_error("jit: loop variable outside its loop");
      return ir_.CreateLoad(F, it->second);
    }
    case Op::Neg:
      return ir_.CreateFNeg(arg(0));
    case Op::Not:
      return b2d(ir_.CreateFCmpOEQ(arg(0), llvm::ConstantFP::get(F, 0.0)));  // x != 0 ? 0 : 1
    case Op::Add: {
      auto* a = arg(0);
      return ir_.CreateFAdd(a, arg(1));
    }
    case Op::Sub: {
      auto* a = arg(0);
      return ir_.CreateFSub(a, arg(1));
    }
    case Op::Mul: {
      auto* a = arg(0);
      return ir_.CreateFMul(a, arg(1));
    }
    case Op::Div: {
      auto* a = arg(0);
      return ir_.CreateFDiv(a, arg(1));
    }
    case Op::FloorDiv: {
      auto* a = arg(0);
      return py_floordiv(a, arg(1));
    }
    case Op::Mod: {
      auto* a = arg(0);
      return py_mod(a, arg(1));
    }
    case Op::Pow: {
      LVal a{this, arg(0)};
      LVal c{this, arg(1)};
      return pow(a, c).v;
    }
    case Op::Lt: {
      auto* a = arg(0);
      return b2d(ir_.CreateFCmpOLT(a, arg(1)));
    }
    case Op::Le: {
      auto* a = arg(0);
      return b2d(ir_.CreateFCmpOLE(a, arg(1)));
    }
    case Op::Gt: {
      auto* a = arg(0);
      return b2d(ir_.CreateFCmpOGT(a, arg(1)));
    }
    case Op::Ge: {
      auto* a = arg(0);
      return b2d(ir_.CreateFCmpOGE(a, arg(1)));
    }
    case Op::Eq: {
      auto* a = arg(0);
      return b2d(ir_.CreateFCmpOEQ(a, arg(1)));
    }
    case Op::Ne: {
      auto* a = arg(0);
      return b2d(ir_.CreateFCmpUNE(a, arg(1)));
    }
    case Op::And:
    case Op::Or: {
      // Python value semantics with short circuit: And = a ? b : a, Or = a ? a : b.
      auto* a = arg(0);
      if (lanes_ > 1) {  // lanes: both sides (pure), chosen per lane
        auto* c = arg(1);
        auto* t = truthy(a);
        return n.op == Op::And ? ir_.CreateSelect(t, c, a) : ir_.CreateSelect(t, a, c);
      }
      auto* from = ir_.GetInsertBlock();
      auto* rhsb = block(n.op == Op::And ? "and.rhs" : "or.rhs");
      auto* endb = block(n.op == Op::And ? "and.end" : "or.end");
      auto* t = truthy(a);
      if (n.op == Op::And)
        ir_.CreateCondBr(t, rhsb, endb);
      else
        ir_.CreateCondBr(t, endb, rhsb);
      ir_.SetInsertPoint(rhsb);
      auto* c = arg(1);
      auto* rhs_end = ir_.GetInsertBlock();
      ir_.CreateBr(endb);
      ir_.SetInsertPoint(endb);
      auto* phi = ir_.CreatePHI(F, 2);
      phi->addIncoming(a, from);
      phi->addIncoming(c, rhs_end);
      return phi;
    }
    case Op::Select: {
      auto* cnd = truthy(arg(0));
      if (lanes_ > 1) {  // lanes: both branches (pure), chosen per lane
        auto* tv = arg(1);
        return ir_.CreateSelect(cnd, tv, arg(2));
      }
      auto* thenb = block("sel.then");
      auto* elseb = block("sel.else");
      auto* endb = block("sel.end");
      ir_.CreateCondBr(cnd, thenb, elseb);
      ir_.SetInsertPoint(thenb);
      auto* tv = arg(1);
      auto* tend = ir_.GetInsertBlock();
      ir_.CreateBr(endb);
      ir_.SetInsertPoint(elseb);
      auto* ev = arg(2);
      auto* eend = ir_.GetInsertBlock();
      ir_.CreateBr(endb);
      ir_.SetInsertPoint(endb);
      auto* phi = ir_.CreatePHI(F, 2);
      phi->addIncoming(tv, tend);
      phi->addIncoming(ev, eend);
      return phi;
    }
    case Op::Call:
      return emit_call(n, ctx);
    case Op::Sum:
    case Op::Prod:
      if (lanes_ > 1) throw JitError("sum()/prod() loops do not run in lanes");
      return emit_loop(n, ctx);
  }
  throw std::logic_error("jit: unknown expression op");
}

llvm::Value* LlvmBackend::emit_call(const ir::Node& n, const Ctx& ctx) {
  using ir::Fn;
  std::vector<llvm::Value*> a;
  for (const auto& x : n.args) {
    if (!x) throw std::logic_error("jit: malformed call");
    a.push_back(emit(*x, ctx));
  }
  auto V = [&](std::size_t i) { return LVal{this, a.at(i)}; };
  auto intr1 = [&](llvm::Intrinsic::ID id) { return ir_.CreateUnaryIntrinsic(id, a.at(0)); };
  if (n.fn == Fn::min || n.fn == Fn::max) {
    // py::min2 / py::max2 folded left to right.
    if (a.empty()) throw std::logic_error("jit: min/max without arguments");
    llvm::Value* cur = a[0];
    for (std::size_t k = 1; k < a.size(); ++k) {
      auto* pick = n.fn == Fn::min ? ir_.CreateFCmpOLT(a[k], cur) : ir_.CreateFCmpOGT(a[k], cur);
      cur = ir_.CreateSelect(pick, a[k], cur);
    }
    return cur;
  }
  if (a.size() == 1) {
    switch (n.fn) {
      case Fn::abs:
        return intr1(llvm::Intrinsic::fabs);
      case Fn::round:
        return intr1(llvm::Intrinsic::roundeven);  // nearbyint in round-to-nearest-even
      case Fn::sqrt:
        return intr1(llvm::Intrinsic::sqrt);
      case Fn::floor:
        return intr1(llvm::Intrinsic::floor);
      case Fn::ceil:
        return intr1(llvm::Intrinsic::ceil);
      case Fn::trunc:
      case Fn::to_int:
        return intr1(llvm::Intrinsic::trunc);
      case Fn::to_float:
        return a[0];
      case Fn::to_bool:
        return ir_.CreateUIToFP(truthy(a[0]), vt_);
      case Fn::exp:
      case Fn::expm1:
      case Fn::log:
      case Fn::log10:
      case Fn::log2:
      case Fn::log1p:
      case Fn::sin:
      case Fn::cos:
      case Fn::tan:
      case Fn::asin:
      case Fn::acos:
      case Fn::atan:
      case Fn::sinh:
      case Fn::cosh:
      case Fn::tanh:
      case Fn::asinh:
      case Fn::acosh:
      case Fn::atanh:
      case Fn::erf:
      case Fn::erfc:
        return call_libm(ir::fn_name(n.fn), {V(0)}).v;
      default:
        return llvm::ConstantFP::getNaN(vt_);  // bytecode call1 default
    }
  }
  if (a.size() == 2) {
    switch (n.fn) {
      case Fn::atan2:
      case Fn::hypot:
      case Fn::pow:
        return call_libm(ir::fn_name(n.fn), {V(0), V(1)}).v;
      case Fn::copysign:
        return ir_.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, a[0], a[1]);
      default:
        return llvm::ConstantFP::getNaN(vt_);  // bytecode call2 default
    }
  }
  throw std::logic_error("jit: bad arity for a math call");
}

llvm::Value* LlvmBackend::emit_loop(const ir::Node& n, const Ctx& ctx) {
  // bytecode LoopInit/LoopTest/LoopInc/AccAdd|AccMul: range(trunc(start), trunc(stop), trunc(step)),
  // accumulator starts at 0 (sum) / 1 (prod); the conditions args[4..] filter the body.
  auto* F = g_.f64();
  auto* I = g_.i64();
  if (n.args.size() < 4) throw std::logic_error("jit: malformed sum/prod");
  auto* start = arg_to_i64(n, 0, ctx);
  auto* stop = arg_to_i64(n, 1, ctx);
  auto* step = arg_to_i64(n, 2, ctx);
  auto* ivar = entry_alloca(I, "loop.i");
  auto* lvar = entry_alloca(F, "loop.v");
  auto* acc = entry_alloca(F, "loop.acc");
  ir_.CreateStore(start, ivar);
  ir_.CreateStore(llvm::ConstantFP::get(F, n.op == ir::Op::Sum ? 0.0 : 1.0), acc);
  auto* testb = block("loop.test");
  auto* bodyb = block("loop.body");
  auto* incb = block("loop.inc");
  auto* endb = block("loop.end");
  ir_.CreateBr(testb);
  ir_.SetInsertPoint(testb);
  auto* cur = ir_.CreateLoad(I, ivar);
  auto* zero = ir_.getInt64(0);
  auto* pos = ir_.CreateICmpSGT(step, zero);
  auto* neg = ir_.CreateICmpSLT(step, zero);
  auto* go = ir_.CreateSelect(pos, ir_.CreateICmpSLT(cur, stop),
                              ir_.CreateSelect(neg, ir_.CreateICmpSGT(cur, stop), ir_.getFalse()));
  ir_.CreateCondBr(go, bodyb, endb);
  ir_.SetInsertPoint(bodyb);
  ir_.CreateStore(ir_.CreateSIToFP(cur, F), lvar);
  auto saved = loop_vars_.find(n.index) != loop_vars_.end() ? loop_vars_[n.index] : nullptr;
  loop_vars_[n.index] = lvar;
  for (std::size_t c = 4; c < n.args.size(); ++c) {
    auto* cv = emit(*n.args[c], ctx);
    auto* nextb = block("loop.cond");
    ir_.CreateCondBr(truthy(cv), nextb, incb);
    ir_.SetInsertPoint(nextb);
  }
  auto* body = emit(*n.args[3], ctx);
  auto* a = ir_.CreateLoad(F, acc);
  ir_.CreateStore(n.op == ir::Op::Sum ? ir_.CreateFAdd(a, body) : ir_.CreateFMul(a, body), acc);
  ir_.CreateBr(incb);
  ir_.SetInsertPoint(incb);
  ir_.CreateStore(ir_.CreateAdd(ir_.CreateLoad(I, ivar), step), ivar);
  ir_.CreateBr(testb);
  ir_.SetInsertPoint(endb);
  if (saved)
    loop_vars_[n.index] = saved;
  else
    loop_vars_.erase(n.index);
  return ir_.CreateLoad(F, acc);
}

llvm::Value* LlvmBackend::arg_to_i64(const ir::Node& n, std::size_t i, const Ctx& ctx) {
  if (!n.args[i]) throw std::logic_error("jit: malformed loop bound");
  auto* v = emit(*n.args[i], ctx);
  // static_cast<int64_t>(std::trunc(x)); fptosi truncates toward zero.
  return fptosi_x86(ir_.CreateUnaryIntrinsic(llvm::Intrinsic::trunc, v));
}

}  // namespace dynlib::jit
