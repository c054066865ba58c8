// The ORC engine: one LLJIT per process (spec/toolchain.md §3, §6). LLVM-including TU #1.
#include "jit/orc_engine.hpp"

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/ObjectCache.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <vector>

#include "dynlib/errors.hpp"

namespace dynlib::jit {

namespace {
std::mutex g_stats_mutex;
std::map<std::string, double> g_optimize_ms;       // by module identifier
std::map<std::string, std::string*> g_ir_sinks;   // by module identifier

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
  // Future disk cache: an llvm::ObjectCache* given to every ConcurrentIRCompiler (must be thread-safe).
  llvm::ObjectCache* object_cache = nullptr;
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
  jtmb->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  // Strict IEEE (DESIGN principle 2): never fuse a*b+c into an FMA, no fast-math assumptions.
  jtmb->getOptions().AllowFPOpFusion = llvm::FPOpFusion::Strict;
  jtmb->getOptions().UnsafeFPMath = false;
  jtmb->getOptions().NoInfsFPMath = false;
  jtmb->getOptions().NoNaNsFPMath = false;
  impl_->jtmb = *jtmb;

  llvm::ObjectCache* cache = impl_->object_cache;
  auto built = llvm::orc::LLJITBuilder()
                   .setJITTargetMachineBuilder(*jtmb)
                   .setSupportConcurrentCompilation(true)
                   .setCompileFunctionCreator(
                       [cache](llvm::orc::JITTargetMachineBuilder b)
                           -> llvm::Expected<std::unique_ptr<llvm::orc::IRCompileLayer::IRCompiler>> {
                         // Thread-safe: creates a TargetMachine per compile. The cache hook lives here.
                         return std::make_unique<llvm::orc::ConcurrentIRCompiler>(std::move(b), cache);
                       })
                   .create();
  if (!built) throw JitError("LLVM JIT: cannot create the ORC LLJIT: " + to_string(built.takeError()));
  impl_->jit = std::move(*built);
  // O3 at materialisation time (so modules whose symbols are never looked up are never optimised).
  // This lambda runs inside LLVM frames: no exception may leave it.
  impl_->jit->getIRTransformLayer().setTransform(
      [this](llvm::orc::ThreadSafeModule tsm,
             llvm::orc::MaterializationResponsibility&) -> llvm::Expected<llvm::orc::ThreadSafeModule> {
        std::string failure;
        tsm.withModuleDo([&](llvm::Module& m) {
          try {
            const auto t0 = std::chrono::steady_clock::now();
            optimize(m);
            const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
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
        if (!failure.empty()) return llvm::make_error<llvm::StringError>(failure, llvm::inconvertibleErrorCode());
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

void OrcEngine::optimize(llvm::Module& m) const {
  auto tm = impl_->jtmb->createTargetMachine();
  if (!tm) throw JitError("LLVM JIT: cannot create a target machine: " + to_string(tm.takeError()));
  llvm::PipelineTuningOptions pto;
  pto.LoopVectorization = true;
  pto.SLPVectorization = true;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(tm->get(), pto);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  mpm.run(m, mam);
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
  if (sink) g_ir_sinks[module_id] = sink;
  else g_ir_sinks.erase(module_id);
}

std::unique_ptr<Unit> OrcEngine::add(std::unique_ptr<llvm::LLVMContext> ctx,
                                     std::vector<std::unique_ptr<llvm::Module>> mods, const std::string& unit_name) {
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
  for (auto& m : mods)
    if (auto err = impl_->jit->addIRModule(*jd, llvm::orc::ThreadSafeModule(std::move(m), tsc)))
      throw JitError("LLVM JIT: cannot add the module of " + unit_name + ": " + to_string(std::move(err)));
  return unit;
}

void* Unit::lookup(const std::string& symbol) {
  auto* jd = static_cast<llvm::orc::JITDylib*>(jd_);
  auto addr = engine_.impl().jit->lookup(*jd, symbol);
  if (!addr)
    throw JitError("LLVM JIT: cannot compile/link '" + symbol + "' of " + name_ + ": " + to_string(addr.takeError()));
  return addr->toPtr<void*>();
}

void Unit::add_object(std::unique_ptr<llvm::MemoryBuffer> object) {
  auto* jd = static_cast<llvm::orc::JITDylib*>(jd_);
  if (auto err = engine_.impl().jit->addObjectFile(*jd, std::move(object)))
    throw JitError("LLVM JIT: cannot add an object file to " + name_ + ": " + to_string(std::move(err)));
}

Unit::~Unit() {
  auto* jd = static_cast<llvm::orc::JITDylib*>(jd_);
  std::lock_guard<std::mutex> lock(engine_.impl().jd_mutex);
  if (auto err = engine_.impl().jit->getExecutionSession().removeJITDylib(*jd)) llvm::consumeError(std::move(err));
}

}  // namespace dynlib::jit
