// Typed errors. Every model error names where the problem is (file, line, column, TOML location)
// and shows the offending text; runtime failures name the time, step and state.
#pragma once
#include <cstdint>
#include <dynlib/export.hpp>
#include <dynlib/status.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace dynlib {

class Results;

// Where in a model a problem was found. Any field may be empty/zero when unknown.
struct SourceLocation {
  std::string file;       // path, "inline model", "builtin://ode/x", ...
  int line = 0;           // 1-based line in the file (0 = unknown)
  int column = 0;         // 1-based column (0 = unknown)
  std::string toml_path;  // e.g. "[events.reset].cond"
  std::string line_text;  // the source line, for the caret display
  bool known() const { return line > 0 || !toml_path.empty() || !file.empty(); }
};

class DYNLIB_API DynlibError : public std::runtime_error {
 public:
  explicit DynlibError(const std::string& msg) : std::runtime_error(msg) {}
};

// Base of every problem in a model file (parse, schema, names, expressions, mods).
// what() is the full formatted text (message + location + caret); message() is the bare message.
class DYNLIB_API ModelLoadError : public DynlibError {
 public:
  ModelLoadError(std::string message, SourceLocation where = {});
  const std::string& message() const noexcept { return message_; }
  const SourceLocation& where() const noexcept { return where_; }
  // Short class name used in diagnostics and tests ("SchemaError", ...).
  virtual const char* kind() const noexcept { return "ModelLoadError"; }

 private:
  std::string message_;
  SourceLocation where_;
};

#define DYNLIB_MODEL_ERROR(Name)                                 \
  class DYNLIB_API Name : public ModelLoadError {                \
   public:                                                       \
    using ModelLoadError::ModelLoadError;                        \
    const char* kind() const noexcept override { return #Name; } \
  };
DYNLIB_MODEL_ERROR(TomlSyntaxError)         // the file is not valid TOML
DYNLIB_MODEL_ERROR(SchemaError)             // wrong table/key shape, unknown or missing key, bad value type
DYNLIB_MODEL_ERROR(ExpressionSyntaxError)   // an expression does not parse
DYNLIB_MODEL_ERROR(UnknownIdentifierError)  // a name that is not declared
DYNLIB_MODEL_ERROR(NameConflictError)       // reserved or duplicated names
DYNLIB_MODEL_ERROR(CyclicDependencyError)   // aux/function cycles
DYNLIB_MODEL_ERROR(LagError)                // bad lag_x(k) usage
DYNLIB_MODEL_ERROR(ArityError)              // wrong number of arguments to a function or macro
DYNLIB_MODEL_ERROR(EventError)              // bad event cond/action/log
DYNLIB_MODEL_ERROR(ModError)                // bad mods
#undef DYNLIB_MODEL_ERROR

class DYNLIB_API ModelNotFoundError : public DynlibError {
 public:
  ModelNotFoundError(std::string uri, std::vector<std::string> candidates);
  std::string uri;
  std::vector<std::string> candidates;
};

class DYNLIB_API ConfigError : public DynlibError {
 public:
  using DynlibError::DynlibError;
};

class DYNLIB_API PathTraversalError : public DynlibError {
 public:
  PathTraversalError(std::string uri, std::string attempted, std::string root);
  std::string uri, attempted, root;
};

class DYNLIB_API AmbiguousModelError : public DynlibError {
 public:
  AmbiguousModelError(std::string uri, std::vector<std::string> matches);
  std::string uri;
  std::vector<std::string> matches;
};

class DYNLIB_API UnknownStepperError : public DynlibError {
 public:
  using DynlibError::DynlibError;
};

class DYNLIB_API StepperKindMismatchError : public DynlibError {
 public:
  StepperKindMismatchError(std::string stepper, std::string stepper_kind, std::string model_kind);
};

class DYNLIB_API StepperJitCapabilityError : public DynlibError {
 public:
  using DynlibError::DynlibError;
};

// jit=true but the JIT component is not built or cannot be loaded.
class DYNLIB_API JITUnavailableError : public DynlibError {
 public:
  using DynlibError::DynlibError;
};

// Code generation or JIT compilation failed (names the component and the model). Never a silent fallback.
class DYNLIB_API JitError : public DynlibError {
 public:
  using DynlibError::DynlibError;
};

// Bad arguments to run()/assign()/config() etc.
class DYNLIB_API ArgumentError : public DynlibError {
 public:
  using DynlibError::DynlibError;
};

// A run ended with a failure status (NaN detected, step failure). Names time, step and state.
// status(), t() and step() say where it failed; partial_results() holds what the run recorded up to
// the failure (records and events; earlier segments too when the run resumed a session).
class DYNLIB_API SimulationError : public DynlibError {
 public:
  using DynlibError::DynlibError;
  SimulationError(const std::string& msg, Status status, double t, std::int64_t step,
                  std::shared_ptr<const Results> partial);
  Status status() const noexcept { return status_; }
  double t() const noexcept { return t_; }              // start time of the failing step
  std::int64_t step() const noexcept { return step_; }  // committed steps before the failure
  bool has_partial_results() const noexcept { return partial_ != nullptr; }
  const Results& partial_results() const;  // empty Results when there are none

 private:
  Status status_ = Status::STEPFAIL;
  double t_ = 0.0;
  std::int64_t step_ = 0;
  std::shared_ptr<const Results> partial_;
};

class DYNLIB_API CacheError : public DynlibError {
 public:
  using DynlibError::DynlibError;
};

}  // namespace dynlib
