// The ORC engine: one LLJIT per process, shared by every compiled unit. LLVM-including TU #1.
#include "jit/orc_engine.hpp"

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/ObjectCache.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/ExecutorProcessControl.h>
#if LLVM_VERSION_MAJOR >= 22
#include <llvm/ExecutionEngine/Orc/SelfExecutorProcessControl.h>  // its own header since LLVM 22
#endif
#include <llvm/ExecutionEngine/Orc/IRCompileLayer.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/TaskDispatch.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassTimingInfo.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "dynlib/errors.hpp"
#include "jit/jit_tuning.hpp"
#include "util/deep_stack.hpp"

namespace dynlib::jit {

namespace {
std::mutex g_stats_mutex;
std::map<std::string, double> g_optimize_ms;     // by module identifier
std::map<std::string, std::string*> g_ir_sinks;  // by module identifier
std::map<std::string, int> g_capture_prefixes;   // prefix -> registration count
std::map<std::string, std::string> g_captured;   // module identifier -> object file bytes

// Never serves an object (a cached unit is loaded without IR, by the plugin); keeps a copy of the
// objects the cache asked for. Runs inside LLVM frames: nothing may throw out of it.
class CapturingObjectCache final : public llvm::ObjectCache {
 public:
  void notifyObjectCompiled(const llvm::Module* m, llvm::MemoryBufferRef obj) override {
    try {
      const std::string id = m->getModuleIdentifier();
      std::lock_guard<std::mutex> lock(g_stats_mutex);
      for (const auto& [prefix, count] : g_capture_prefixes) {
        if (count > 0 && id.compare(0, prefix.size(), prefix) == 0) {
          g_captured[id].assign(obj.getBufferStart(), obj.getBufferSize());
          return;
        }
      }
    } catch (...) {
      // out of memory: the unit is simply not cached
    }
  }
  std::unique_ptr<llvm::MemoryBuffer> getObject(const llvm::Module*) override { return nullptr; }
};

// Measurement knobs (bench/README.md), read once by JitTuning (jit_tuning.hpp), which is hashed whole into
// the cache key (and mirrored in codegen_flags):
//  - DYNLIB_JIT_OPT=O0..O3: LLVM's standard per-module pipeline (default<On>) for every module instead of
//    the lean pipeline below; DYNLIB_JIT_OPT=O3 is the pipeline used up to 57c5f77.
//  - DYNLIB_JIT_PIPELINE=<text>: any new-pass-manager pipeline text (as for `opt -passes=...`) for modules
//    without runtime state loops; DYNLIB_JIT_PIPELINE_LOOPS=<text> for modules with them.
//  - DYNLIB_JIT_CODEGEN=none|less|default|aggressive (default aggressive).
//  - DYNLIB_JIT_LOOP_OPT=1: loop unroll/interleave/vectorize also in modules without runtime state loops
//    (only affects default<On> pipelines).
//  - DYNLIB_JIT_LARGE_MODULE=<n>: IR instructions above which a module is compiled as large (below).
int opt_level_from_env() {
  const char* e = JitTuning::c_str_or_null(JitTuning::get().opt);
  if (e != nullptr && (e[0] == 'O' || e[0] == 'o') && e[1] >= '0' && e[1] <= '3' && e[2] == '\0')
    return e[1] - '0';
  return -1;
}

// The IR pipeline of modules without runtime state loops (at most ModuleGen::unroll_max states, i.e. all
// builtin models). Our IR has no C++ abstractions: every model function is alwaysinline or noinline,
// state loops are unrolled at code generation, and the only loops left are the run loop and its
// record/event loops. So: no CGSCC inliner (always-inline does it), no IPO, no loop unroll/vectorize/
// idiom/unswitch/indvars. Kept: inferattrs (libm calls such as exp become memory(write), so loads are
// CSE'd/hoisted across them), the function simplification passes of default<O3> that matter after
// inlining (SROA of the runner's allocas, CSE/GVN of loads across the inlined rhs copies, LICM of the
// run loop's invariants, DSE, InstCombine/SimplifyCFG/jump threading to fold the NaN-guard diamonds)
// and the SLP vectorizer, which Lorenz (~8 %) and Lorenz-96 with 40 states (~3x) need. A shorter
// pipeline (no jump threading/CVP/SCCP/BDCE/ADCE/MemCpyOpt/VectorCombine) was about as cheap but
// Hodgkin-Huxley rk4 looked 3-8 % slower. No pass here changes FP semantics (strict IEEE either way).
const char* const kLeanPipeline =
    "inferattrs,always-inline,"
    "function(sroa<modify-cfg>,early-cse<memssa>,simplifycfg,instcombine<no-verify-fixpoint>,jump-threading,"
    "correlated-propagation,simplifycfg,instcombine<no-verify-fixpoint>,loop-mssa(loop-rotate,licm<"
    "allowspeculation>),"
    "sroa,mldst-motion,gvn,sccp,bdce,instcombine<no-verify-fixpoint>,dse,loop-mssa(licm<allowspeculation>),"
    "adce,"
    "memcpyopt,simplifycfg,instcombine<no-verify-fixpoint>,slp-vectorizer,vector-combine,instcombine<no-"
    "verify-fixpoint>,"
    "simplifycfg),globaldce";
// Large modules (more IR instructions than kLargeModuleInstructions before optimisation, in a long
// function; DYNLIB_JIT_LARGE_MODULE overrides the number; see is_large_ir) are generated models with
// thousands of states or events: huge straight-line functions (one equation, lag ring or event after the
// other). There the time of the optimising compile went into passes that grow faster than linearly with the
// size of a function or of a basic block: the SLP vectorizer, GVN, correlated value propagation and dead
// store elimination in the IR pipeline, and the machine scheduler (dependency graph of a whole block) and the
// greedy register allocator in code generation. 1000 lagged states took 10 s of CPU, 1000 events 8 s, and
// 10000 of either minutes. So they get a short IR pipeline (inlining, SROA, early CSE, InstCombine,
// SimplifyCFG, LICM) and CodeGenOptLevel::None (fast instruction selection, the fast register allocator, no
// machine scheduler), all roughly linear. Strict IEEE as everywhere: same bits, only slower code. Every
// builtin model and Lorenz-96 with 1000 states stay below the threshold, so their code does not change.
constexpr unsigned kLargeModuleInstructions = 24000;
const char* const kLargePipeline =
    "inferattrs,always-inline,"
    "function(sroa<modify-cfg>,early-cse<memssa>,simplifycfg,instcombine<no-verify-fixpoint>,loop-mssa(loop-"
    "rotate,licm<allowspeculation>),simplifycfg),globaldce";
unsigned large_module_from_env() {
  const std::string& v = JitTuning::get().large_module;
  if (v.empty()) return kLargeModuleInstructions;
  char* end = nullptr;
  const unsigned long n = std::strtoul(v.c_str(), &end, 10);
  return end != v.c_str() && *end == '\0' && n > 0 && n < 0xffffffffUL ? static_cast<unsigned>(n)
                                                                       : kLargeModuleInstructions;
}
bool is_large(const llvm::Module& m) { return m.getModuleFlag(kLargeFlag) != nullptr; }
// Large: more instructions than the threshold, unless every function is short (at most a quarter of
// it) and the whole module below kLargeModuleFactor times it. The passes above grow faster than linearly
// with the size of a function or block (1000 lagged states: one runner function of 14,000 instructions
// took 8 s in code generation), while many short functions compile in about linear time. Long model
// functions are split into parts (ModuleGen::block_fn), so a generated model with thousands of equations
// (the 2048-state Brusselator: about 70,000 instructions, none of its functions longer than 3,000) gets
// the full pipeline; modules below the threshold compile as before.
constexpr unsigned kLargeModuleFactor = 10;
unsigned largest_function(const llvm::Module& m) {
  unsigned largest = 0;
  for (const auto& f : m) largest = std::max(largest, f.getInstructionCount());
  return largest;
}
bool is_large_ir(const llvm::Module& m, unsigned threshold) {
  const std::uint64_t total = m.getInstructionCount();
  return total > threshold &&
         (largest_function(m) > threshold / 4 || total > kLargeModuleFactor * std::uint64_t{threshold});
}

llvm::CodeGenOptLevel codegen_level_from_env(std::string& name) {
  const char* e = JitTuning::c_str_or_null(JitTuning::get().codegen);
  const std::string v = e != nullptr ? e : "";
  if (v == "none") {
    name = "None";
    return llvm::CodeGenOptLevel::None;
  }
  if (v == "less") {
    name = "Less";
    return llvm::CodeGenOptLevel::Less;
  }
  if (v == "default") {
    name = "Default";
    return llvm::CodeGenOptLevel::Default;
  }
  name = "Aggressive";
  return llvm::CodeGenOptLevel::Aggressive;
}

// Baseline modules (codegen.cpp marks them with the module flag kBaselineFlag; docs/jit.md "Tiered
// compilation") are compiled for latency: always-inline only, then fast instruction selection and the
// fast register allocator. Strict IEEE either way, so baseline and optimised code give the same bits.
bool is_baseline(const llvm::Module& m) { return m.getModuleFlag(kBaselineFlag) != nullptr; }

// Code generation per module: CodeGenOptLevel::None for baseline and large modules, the configured
// level for the rest. Each is a ConcurrentIRCompiler (a TargetMachine per compile), so this is thread-safe.
class TieredIRCompiler final : public llvm::orc::IRCompileLayer::IRCompiler {
 public:
  TieredIRCompiler(llvm::orc::JITTargetMachineBuilder b, llvm::ObjectCache* cache)
      : IRCompiler(llvm::orc::irManglingOptionsFromTargetOptions(b.getOptions())),
        optimized_(b, cache),
        baseline_(with_level(b, llvm::CodeGenOptLevel::None), cache) {}
  llvm::Expected<std::unique_ptr<llvm::MemoryBuffer>> operator()(llvm::Module& m) override {
    return is_baseline(m) || is_large(m) ? baseline_(m) : optimized_(m);
  }

 private:
  static llvm::orc::JITTargetMachineBuilder with_level(llvm::orc::JITTargetMachineBuilder b,
                                                       llvm::CodeGenOptLevel l) {
    b.setCodeGenOptLevel(l);
    return b;
  }
  llvm::orc::ConcurrentIRCompiler optimized_, baseline_;
};

// Runs ORC's tasks (materialising a module or an object file, JITLink's continuations) on the thread
// that asked for them, instead of a new thread per task (LLVM's default for an in-process JIT): a
// disk-cache hit links its object in three tasks, and each thread start cost 50-150 us of a
// sub-millisecond setup(). Concurrency is unchanged: every thread that looks up a symbol materialises
// what it needs itself (the background tier-up compiles on its own thread), and a thread that needs a
// module another thread is materialising waits for it as before. A task is handed to a new thread as
// before when the caller has less stack than such a thread would get (code generation recurses).
class CallerThreadDispatcher final : public llvm::orc::TaskDispatcher {
 public:
  void dispatch(std::unique_ptr<llvm::orc::Task> t) override {
    if (util::stack_left() >= kInPlaceStackBytes) {
      t->run();
      return;
    }
    threads_.dispatch(std::move(t));
  }
  void shutdown() override { threads_.shutdown(); }

 private:
  // Below the 8 MiB of a default thread by what the caller has already used at most.
  static constexpr std::size_t kInPlaceStackBytes = std::size_t{6} << 20;
  llvm::orc::DynamicThreadPoolTaskDispatcher threads_{std::nullopt};
};

std::string to_string(llvm::Error e) {
  std::string s;
  llvm::handleAllErrors(std::move(e), [&](const llvm::ErrorInfoBase& info) {
    if (!s.empty()) s += "; ";
    s += info.message();
  });
  return s;
}
}  // namespace

struct OrcEngine::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::optional<llvm::orc::JITTargetMachineBuilder> jtmb;
  // Given to every ConcurrentIRCompiler (thread-safe).
  std::unique_ptr<llvm::ObjectCache> object_cache = std::make_unique<CapturingObjectCache>();
  std::mutex jd_mutex;  // serialises JITDylib creation/removal
};

OrcEngine& OrcEngine::instance() {
  // Created once, never destroyed: the JIT'd code may be referenced until process exit, and the
  // plugin is never dlclose()d. A failed creation throws from every call (the static is not set).
  static OrcEngine* engine = new OrcEngine();
  return *engine;
}

OrcEngine::OrcEngine() : impl_(std::make_unique<Impl>()) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::InitializeNativeTargetAsmParser();

  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) throw JitError("LLVM JIT: cannot detect the host target: " + to_string(jtmb.takeError()));
  std::string cg_name;
  jtmb->setCodeGenOptLevel(codegen_level_from_env(cg_name));
  opt_level_ = opt_level_from_env();
  if (opt_level_ >= 0) {
    pipeline_ = pipeline_runtime_loops_ = "default<O" + std::to_string(opt_level_) + ">";
  } else {
    pipeline_ = kLeanPipeline;
    pipeline_runtime_loops_ = "default<O3>";
  }
  const JitTuning& tuning = JitTuning::get();
  if (!tuning.pipeline.empty()) pipeline_ = tuning.pipeline;
  if (!tuning.pipeline_loops.empty()) pipeline_runtime_loops_ = tuning.pipeline_loops;
  if (!tuning.loop_opt.empty()) loop_opts_forced_ = tuning.loop_opt[0] == '1';
  large_module_ = large_module_from_env();
  // DYNLIB_JIT_TIME_PASSES=1 (measurement): LLVM's pass timing report on stderr, per module for the IR
  // pipeline (optimize()) and summed over the process for the code generator (printed at exit).
  if (tuning.time_passes) {
    llvm::TimePassesIsEnabled = true;
    std::atexit([] { llvm::reportAndResetTimings(); });
  }
  // Strict IEEE (same bits as the interpreter): never fuse a*b+c into an FMA, no fast-math assumptions.
  jtmb->getOptions().AllowFPOpFusion = llvm::FPOpFusion::Strict;
#if LLVM_VERSION_MAJOR < 22
  jtmb->getOptions().UnsafeFPMath = false;  // removed in LLVM 22 (per-instruction fast-math flags only)
#endif
  jtmb->getOptions().NoInfsFPMath = false;
  jtmb->getOptions().NoNaNsFPMath = false;
  impl_->jtmb = *jtmb;

  llvm::ObjectCache* cache = impl_->object_cache.get();
  auto epc =
      llvm::orc::SelfExecutorProcessControl::Create(nullptr, std::make_unique<CallerThreadDispatcher>());
  if (!epc) throw JitError("LLVM JIT: cannot create the process control: " + to_string(epc.takeError()));
  auto built = llvm::orc::LLJITBuilder()
                   .setExecutorProcessControl(std::move(*epc))
                   .setJITTargetMachineBuilder(*jtmb)
                   // No static constructors or destructors in our code (codegen emits none): no
                   // platform support module per JITDylib (about 60 us per unit).
                   .setPlatformSetUp(llvm::orc::setUpInactivePlatform)
                   .setSupportConcurrentCompilation(true)
                   .setCompileFunctionCreator(
                       [cache](llvm::orc::JITTargetMachineBuilder b)
                           -> llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
                         // Thread-safe: creates a TargetMachine per compile. The cache hook lives here.
                         return std::make_unique<TieredIRCompiler>(std::move(b), cache);
                       })
                   .create();
  if (!built) throw JitError("LLVM JIT: cannot create the ORC LLJIT: " + to_string(built.takeError()));
  impl_->jit = std::move(*built);
  // The IR pipeline runs at materialisation time (so modules whose symbols are never looked up are
  // never optimised).
  // This lambda runs inside LLVM frames: no exception may leave it.
  impl_->jit->getIRTransformLayer().setTransform(
      [this](llvm::orc::ThreadSafeModule tsm,
             llvm::orc::MaterializationResponsibility&) -> llvm::Expected<llvm::orc::ThreadSafeModule> {
        std::string failure;
        tsm.withModuleDo([&](llvm::Module& m) {
          try {
            const auto t0 = std::chrono::steady_clock::now();
            optimize(m);
            const double ms =
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            std::lock_guard<std::mutex> lock(g_stats_mutex);
            g_optimize_ms[m.getModuleIdentifier()] += ms;
            if (auto it = g_ir_sinks.find(m.getModuleIdentifier()); it != g_ir_sinks.end() && it->second) {
              llvm::raw_string_ostream os(*it->second);
              m.print(os, nullptr);
            }
          } catch (const std::exception& e) {
            failure = e.what();
          } catch (...) {
            failure = "unknown exception while optimising";
          }
        });
        if (!failure.empty())
          return llvm::make_error<llvm::StringError>(failure, llvm::inconvertibleErrorCode());
        return tsm;
      });

  info_.llvm_version = LLVM_VERSION_STRING;
  info_.triple = impl_->jtmb->getTargetTriple().str();
  info_.cpu = impl_->jtmb->getCPU();
  // Sorted feature list (StringMap order is unspecified): stable text for cache keys and model_info.
  std::vector<std::string> feats = impl_->jtmb->getFeatures().getFeatures();
  std::sort(feats.begin(), feats.end());
  for (const auto& f : feats) {
    if (!info_.features.empty()) info_.features += ',';
    info_.features += f;
  }
  info_.data_layout = impl_->jit->getDataLayout().getStringRepresentation();
  // Mirror of the settings above and of optimize(): change both together.
  info_.codegen_flags =
      "pipeline=" + pipeline_ + ";pipeline_runtime_loops=" + pipeline_runtime_loops_ + ";codegen=" + cg_name +
      ";fp_fusion=strict;unsafe_fp=0;no_infs=0;no_nans=0;vectorize=" +
      std::string(loop_opts_forced_ ? "loop+slp" : "slp;loop_opts=runtime_state_loops") +
      ";large_module=" + std::to_string(large_module_) + "_unless_functions_below_" +
      std::to_string(large_module_ / 4) + "_and_module_below_" +
      std::to_string(kLargeModuleFactor * std::uint64_t{large_module_}) + ":pipeline=" + kLargePipeline +
      ",codegen=None;linker=jitlink;code_model=" +
      std::to_string(static_cast<int>(impl_->jtmb->getCodeModel().value_or(llvm::CodeModel::Small))) +
      ";reloc=" +
      std::to_string(static_cast<int>(impl_->jtmb->getRelocationModel().value_or(llvm::Reloc::Static)));
}

OrcEngine::~OrcEngine() = default;

void OrcEngine::prepare(llvm::Module& m) const {
  m.setDataLayout(impl_->jit->getDataLayout());
#if LLVM_VERSION_MAJOR >= 21
  m.setTargetTriple(impl_->jit->getTargetTriple());
#else
  m.setTargetTriple(impl_->jit->getTargetTriple().str());
#endif
}

bool OrcEngine::counts_as_large(const llvm::Module& m) const { return is_large_ir(m, large_module_); }

void OrcEngine::optimize(llvm::Module& m) const {
  auto tm = impl_->jtmb->createTargetMachine();
  if (!tm) throw JitError("LLVM JIT: cannot create a target machine: " + to_string(tm.takeError()));
  const bool runtime_loops = m.getModuleFlag("dynlib.runtime_state_loops") != nullptr;
  // Counted before any pass runs, so the decision depends on the generated IR alone (cache key).
  const bool large = !is_baseline(m) && is_large_ir(m, large_module_);
  if (large) m.addModuleFlag(llvm::Module::Warning, kLargeFlag, 1);  // read by TieredIRCompiler
  const bool loop_opts = (runtime_loops || loop_opts_forced_) && !large;
  llvm::PipelineTuningOptions pto;
  pto.LoopUnrolling = loop_opts;
  pto.LoopInterleaving = loop_opts;
  pto.LoopVectorization = loop_opts;
  // Off where codegen says it does not pay (flag set by codegen.cpp set_vectorize_policy, which says why).
  pto.SLPVectorization = m.getModuleFlag("dynlib.no_slp") == nullptr && !large;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  const bool time_passes = JitTuning::get().time_passes;
  llvm::PassInstrumentationCallbacks pic;
  std::optional<llvm::TimePassesHandler> tph;
  if (time_passes) {
    tph.emplace(true);
    tph->registerCallbacks(pic);
  }
  llvm::PassBuilder pb(tm->get(), pto, std::nullopt, time_passes ? &pic : nullptr);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm;
  std::string text = is_baseline(m)  ? "default<O0>"
                     : large         ? kLargePipeline
                     : runtime_loops ? pipeline_runtime_loops_
                                     : pipeline_;
  if (time_passes)
    std::fprintf(stderr, "dynlib JIT: module %s: %u IR instructions, %u in the longest function%s\n",
                 m.getModuleIdentifier().c_str(), m.getInstructionCount(), largest_function(m),
                 large ? " (large module)" : "");
  // No SLP vectorizer where codegen says it does not pay (ModuleGen / set_vectorize_policy).
  if (m.getModuleFlag("dynlib.no_slp") != nullptr)
    for (auto p = text.find("slp-vectorizer,"); p != std::string::npos; p = text.find("slp-vectorizer,"))
      text.erase(p, std::string("slp-vectorizer,").size());
  if (text.rfind("default<", 0) == 0 && text.size() == 11) {
    const char c = text[9];
    const llvm::OptimizationLevel level = c == '0'   ? llvm::OptimizationLevel::O0
                                          : c == '1' ? llvm::OptimizationLevel::O1
                                          : c == '2' ? llvm::OptimizationLevel::O2
                                                     : llvm::OptimizationLevel::O3;
    mpm = pb.buildPerModuleDefaultPipeline(level);
  } else if (auto err = pb.parsePassPipeline(mpm, text)) {
    throw JitError("LLVM JIT: invalid pass pipeline '" + text + "': " + to_string(std::move(err)));
  }
  mpm.run(m, mam);
  if (tph) tph->print();
}

double OrcEngine::take_optimize_ms(const std::string& module_id) {
  std::lock_guard<std::mutex> lock(g_stats_mutex);
  auto it = g_optimize_ms.find(module_id);
  if (it == g_optimize_ms.end()) return 0.0;
  const double v = it->second;
  g_optimize_ms.erase(it);
  return v;
}

void OrcEngine::set_ir_sink(const std::string& module_id, std::string* sink) {
  std::lock_guard<std::mutex> lock(g_stats_mutex);
  if (sink)
    g_ir_sinks[module_id] = sink;
  else
    g_ir_sinks.erase(module_id);
}

void OrcEngine::begin_capture(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(g_stats_mutex);
  ++g_capture_prefixes[prefix];
}

void OrcEngine::end_capture(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(g_stats_mutex);
  auto it = g_capture_prefixes.find(prefix);
  if (it == g_capture_prefixes.end()) return;
  if (--it->second > 0) return;
  g_capture_prefixes.erase(it);
  for (auto c = g_captured.lower_bound(prefix);
       c != g_captured.end() && c->first.compare(0, prefix.size(), prefix) == 0;)
    c = g_captured.erase(c);
}

bool OrcEngine::take_object(const std::string& module_id, std::string& out) {
  std::lock_guard<std::mutex> lock(g_stats_mutex);
  auto it = g_captured.find(module_id);
  if (it == g_captured.end()) return false;
  out = std::move(it->second);
  g_captured.erase(it);
  return true;
}

bool OrcEngine::take_object_prefix(const std::string& prefix, std::string& out) {
  std::lock_guard<std::mutex> lock(g_stats_mutex);
  auto it = g_captured.lower_bound(prefix);
  if (it == g_captured.end() || it->first.compare(0, prefix.size(), prefix) != 0) return false;
  out = std::move(it->second);
  g_captured.erase(it);
  return true;
}

std::unique_ptr<Unit> OrcEngine::create_unit(const std::string& unit_name) {
  std::lock_guard<std::mutex> lock(impl_->jd_mutex);
  static std::uint64_t counter = 0;
  auto created = impl_->jit->createJITDylib(unit_name + "#obj" + std::to_string(++counter));
  if (!created) throw JitError("LLVM JIT: cannot create a JITDylib: " + to_string(created.takeError()));
  return std::unique_ptr<Unit>(new Unit(*this, &*created, unit_name));
}

std::unique_ptr<Unit> OrcEngine::add(std::unique_ptr<llvm::LLVMContext> ctx,
                                     std::vector<std::unique_ptr<llvm::Module>> mods,
                                     const std::string& unit_name) {
  llvm::orc::JITDylib* jd = nullptr;
  {
    std::lock_guard<std::mutex> lock(impl_->jd_mutex);
    // JITDylib names must be unique in the session: suffix a counter.
    static std::uint64_t counter = 0;
    auto created = impl_->jit->createJITDylib(unit_name + "#" + std::to_string(++counter));
    if (!created) throw JitError("LLVM JIT: cannot create a JITDylib: " + to_string(created.takeError()));
    jd = &*created;
  }
  std::unique_ptr<Unit> unit(new Unit(*this, jd, unit_name));
  llvm::orc::ThreadSafeContext tsc(std::move(ctx));
  // Straight into the IR transform layer, not LLJIT::addIRModule: with concurrent compilation on,
  // addIRModule's platform layer (global constructor support, which our modules do not use) clones
  // every module into a new LLVMContext before compiling it (bitcode write + parse + CloneModule, ~10 %
  // of a compile). Each unit has its own context, whose lock serialises its hot and cold modules.
  for (auto& m : mods)
    if (auto err = impl_->jit->getIRTransformLayer().add(*jd, llvm::orc::ThreadSafeModule(std::move(m), tsc)))
      throw JitError("LLVM JIT: cannot add the module of " + unit_name + ": " + to_string(std::move(err)));
  return unit;
}

void* Unit::lookup(const std::string& symbol) {
  auto* jd = static_cast<llvm::orc::JITDylib*>(jd_);
  auto addr = engine_.impl().jit->lookup(*jd, symbol);
  if (!addr)
    throw JitError("LLVM JIT: cannot compile/link '" + symbol + "' of " + name_ + ": " +
                   to_string(addr.takeError()));
  return addr->toPtr<void*>();
}

std::vector<void*> Unit::lookup_all(const std::vector<std::string>& symbols) {
  auto* jd = static_cast<llvm::orc::JITDylib*>(jd_);
  auto& jit = *engine_.impl().jit;
  llvm::orc::SymbolLookupSet set;
  std::vector<llvm::orc::SymbolStringPtr> names;
  for (const auto& s : symbols) {
    names.push_back(jit.mangleAndIntern(s));
    set.add(names.back());
  }
  auto found = jit.getExecutionSession().lookup(
      llvm::orc::makeJITDylibSearchOrder(jd, llvm::orc::JITDylibLookupFlags::MatchAllSymbols),
      std::move(set));
  if (!found) {
    std::string all;
    for (const auto& s : symbols) all += (all.empty() ? "'" : ", '") + s + "'";
    throw JitError("LLVM JIT: cannot compile/link " + all + " of " + name_ + ": " +
                   to_string(found.takeError()));
  }
  std::vector<void*> out;
  for (const auto& n : names) {
    auto it = found->find(n);
    if (it == found->end())
      throw JitError("LLVM JIT: symbol " + std::string(*n) + " of " + name_ + " not found");
    out.push_back(it->second.getAddress().toPtr<void*>());
  }
  return out;
}

void Unit::add_object(std::unique_ptr<llvm::MemoryBuffer> object) {
  auto* jd = static_cast<llvm::orc::JITDylib*>(jd_);
  if (auto err = engine_.impl().jit->addObjectFile(*jd, std::move(object)))
    throw JitError("LLVM JIT: cannot add an object file to " + name_ + ": " + to_string(std::move(err)));
}

void Unit::add_object_bytes(const std::string& bytes, const std::string& name) {
  add_object(llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(bytes.data(), bytes.size()), name));
}

Unit::~Unit() {
  auto* jd = static_cast<llvm::orc::JITDylib*>(jd_);
  std::lock_guard<std::mutex> lock(engine_.impl().jd_mutex);
  if (auto err = engine_.impl().jit->getExecutionSession().removeJITDylib(*jd))
    llvm::consumeError(std::move(err));
}

}  // namespace dynlib::jit
