// C++ errors -> Python exceptions: one class per C++ error type under a common base DynlibError,
// with the location of model errors (file, line, column, TOML path, the source line) as attributes.
// ArgumentError is also a ValueError, SimulationError a RuntimeError and UnknownStepperError a KeyError,
// so scripts that catch the built-in types keep working.
#include <dynlib/errors.hpp>
#include <dynlib/results.hpp>
#include <map>
#include <memory>
#include <string>

#include "bindings.hpp"
#include "py_results.hpp"

namespace dynlib::python {
namespace {

// Exception classes live for the whole process (the module is never unloaded).
std::map<std::string, PyObject*>& classes() {
  static auto* m = new std::map<std::string, PyObject*>();
  return *m;
}

PyObject* make_class(py::module_& m, const char* name, std::initializer_list<PyObject*> bases,
                     const char* doc) {
  py::tuple b(bases.size());
  std::size_t i = 0;
  for (PyObject* base : bases) b[i++] = py::reinterpret_borrow<py::object>(base);
  const std::string qualified = std::string("dynlib.") + name;
  PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, b.ptr(), nullptr);
  if (!cls) throw py::error_already_set();
  m.add_object(name, py::reinterpret_borrow<py::object>(cls));
  classes()[name] = cls;
  return cls;
}

PyObject* cls(const std::string& name) { return classes().at(name); }

void raise(PyObject* type, const std::string& message, const py::dict& attrs) {
  py::object exc = py::reinterpret_borrow<py::object>(type)(message);
  for (auto item : attrs) py::setattr(exc, item.first, item.second);
  PyErr_SetObject(type, exc.ptr());
}

void raise_model_error(const ModelLoadError& e) {
  auto it = classes().find(e.kind());
  PyObject* type = it != classes().end() ? it->second : cls("ModelLoadError");
  const auto& w = e.where();
  py::dict a;
  a["message"] = e.message();
  a["file"] = w.file;
  a["line"] = w.line;
  a["column"] = w.column;
  a["toml_path"] = w.toml_path;
  a["line_text"] = w.line_text;
  raise(type, e.what(), a);
}

}  // namespace

void bind_errors(py::module_& m) {
  PyObject* base = make_class(m, "DynlibError", {PyExc_Exception}, "Base of every dynlib error.");
  PyObject* model =
      make_class(m, "ModelLoadError", {base},
                 "A problem in a model file. Attributes: message, file, line, column, toml_path, "
                 "line_text; str() is the full text with the location and a caret.");
  for (const char* name :
       {"TomlSyntaxError", "SchemaError", "ExpressionSyntaxError", "UnknownIdentifierError",
        "NameConflictError", "CyclicDependencyError", "LagError", "ArityError", "EventError", "ModError"})
    make_class(m, name, {model}, "A problem in a model file (see ModelLoadError).");
  make_class(m, "ModelNotFoundError", {base}, "No model at this URI. Attributes: uri, candidates.");
  make_class(m, "ConfigError", {base}, "A bad configuration file or setting.");
  make_class(m, "PathTraversalError", {base},
             "A tag URI that leaves its root. Attributes: uri, attempted, root.");
  make_class(m, "AmbiguousModelError", {base},
             "A URI that matches several models. Attributes: uri, matches.");
  make_class(m, "UnknownStepperError", {base, PyExc_KeyError}, "No stepper of this name.");
  make_class(m, "StepperKindMismatchError", {base}, "The stepper is for the other model kind (ode/map).");
  make_class(m, "StepperJitCapabilityError", {base}, "The stepper cannot be compiled by the JIT.");
  make_class(m, "JITUnavailableError", {base}, "jit=True, but the JIT component is not available.");
  make_class(m, "JitError", {base}, "Code generation or JIT compilation failed.");
  make_class(m, "ArgumentError", {base, PyExc_ValueError},
             "A bad argument to run(), assign(), config(), ...");
  make_class(m, "SimulationError", {base, PyExc_RuntimeError},
             "A run failed (NaN detected, step failure). Attributes: status, t, step, partial_results "
             "(what the run recorded up to the failure, or None).");
  make_class(m, "CacheError", {base}, "A problem with the disk cache.");

  py::register_exception_translator([](std::exception_ptr p) {
    if (!p) return;
    try {
      std::rethrow_exception(p);
    } catch (const ModelLoadError& e) {
      raise_model_error(e);
    } catch (const ModelNotFoundError& e) {
      py::dict a;
      a["uri"] = e.uri;
      a["candidates"] = py::cast(e.candidates);
      raise(cls("ModelNotFoundError"), e.what(), a);
    } catch (const PathTraversalError& e) {
      py::dict a;
      a["uri"] = e.uri;
      a["attempted"] = e.attempted;
      a["root"] = e.root;
      raise(cls("PathTraversalError"), e.what(), a);
    } catch (const AmbiguousModelError& e) {
      py::dict a;
      a["uri"] = e.uri;
      a["matches"] = py::cast(e.matches);
      raise(cls("AmbiguousModelError"), e.what(), a);
    } catch (const SimulationError& e) {
      py::dict a;
      a["status"] = py::cast(e.status());
      a["t"] = e.t();
      a["step"] = e.step();
      a["partial_results"] = e.has_partial_results()
                                 ? py::cast(PyResults{std::make_shared<const Results>(e.partial_results())})
                                 : py::none();
      raise(cls("SimulationError"), e.what(), a);
    } catch (const ConfigError& e) {
      raise(cls("ConfigError"), e.what(), {});
    } catch (const UnknownStepperError& e) {
      raise(cls("UnknownStepperError"), e.what(), {});
    } catch (const StepperKindMismatchError& e) {
      raise(cls("StepperKindMismatchError"), e.what(), {});
    } catch (const StepperJitCapabilityError& e) {
      raise(cls("StepperJitCapabilityError"), e.what(), {});
    } catch (const JITUnavailableError& e) {
      raise(cls("JITUnavailableError"), e.what(), {});
    } catch (const JitError& e) {
      raise(cls("JitError"), e.what(), {});
    } catch (const ArgumentError& e) {
      raise(cls("ArgumentError"), e.what(), {});
    } catch (const CacheError& e) {
      raise(cls("CacheError"), e.what(), {});
    } catch (const DynlibError& e) {
      raise(cls("DynlibError"), e.what(), {});
    }
  });
}

}  // namespace dynlib::python
