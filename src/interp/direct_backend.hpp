// DirectBackend: the kernel templates executed directly (values are doubles). See kernels/backend.hpp.
#pragma once
#include <atomic>
#include <cmath>
#include <cstdint>

#include "dynlib/ir.hpp"
#include "interp/bytecode.hpp"
#include "kernels/backend.hpp"

namespace dynlib::interp {

struct DirectBackend {
  using Val = double;
  using Bool = bool;
  using Int = std::int64_t;
  using Arr = double*;
  using IArr = std::int64_t*;
  struct Var {
    double v;
    double get() const { return v; }
    operator double() const { return v; }
    Var& operator=(double x) {
      v = x;
      return *this;
    }
  };
  struct IVar {
    std::int64_t v;
    std::int64_t get() const { return v; }
    operator std::int64_t() const { return v; }
    IVar& operator=(std::int64_t x) {
      v = x;
      return *this;
    }
  };

  const ir::ModelIR* m = nullptr;
  const Program* prog = nullptr;
  std::int32_t rhs_entry = -1;
  std::int32_t jac_entry = -1;
  const std::int32_t* user_break_flag = nullptr;

  static double c(double x) { return x; }
  static std::int64_t ci(std::int64_t x) { return x; }
  static bool ctrue() { return true; }
  static bool cfalse() { return false; }
  static bool land(bool a, bool b) { return a && b; }
  static bool lor(bool a, bool b) { return a || b; }
  static bool lnot(bool a) { return !a; }
  static Var var(double x) { return Var{x}; }
  static IVar ivar(std::int64_t x) { return IVar{x}; }
  static double* offset(double* a, int k) { return a + k; }
  static std::int64_t* offset(std::int64_t* a, int k) { return a + k; }
  static double sqrt(double x) { return std::sqrt(x); }
  static double fabs(double x) { return std::fabs(x); }
  static double fmin(double a, double b) { return std::fmin(a, b); }
  static double fmax(double a, double b) { return std::fmax(a, b); }
  static double pow(double a, double b) { return std::pow(a, b); }
  static double log(double x) { return std::log(x); }
  static bool isfinite(double x) { return std::isfinite(x); }
  static bool unroll(int) { return true; }  // state loops are plain C++ loops either way
  static double select(bool c, double a, double b) { return c ? a : b; }
  static std::int64_t iselect(bool c, std::int64_t a, std::int64_t b) { return c ? a : b; }
  static double to_val(std::int64_t x) { return static_cast<double>(x); }
  static std::int64_t to_int(double x) { return static_cast<std::int64_t>(x); }
  template <class F>
  static void if_(bool c, F&& f) {
    if (c) f();
  }
  template <class F, class G>
  static void if_(bool c, F&& f, G&& g) {
    if (c)
      f();
    else
      g();
  }
  template <class C, class F>
  static void while_(C&& c, F&& f) {
    while (c()) f();
  }
  template <class F>
  static void for_(std::int64_t lo, std::int64_t hi, F&& f) {
    for (std::int64_t i = lo; i < hi; ++i) f(i);
  }

  const ir::ModelIR& model() const { return *m; }
  // Code-generation-time integer tables (they live as long as the model); the kernels only read them.
  IArr const_iarr(const std::vector<std::int64_t>& v) const { return const_cast<std::int64_t*>(v.data()); }
  double to_storage(double x) const { return kernels::storage_round(m->dtype, x); }
  double eval(const ir::Expr& e, const kernels::EvalCtx<DirectBackend>& c) const {
    Env env{c.t, c.y, c.params, c.lag_ring, c.lag_head, c.lag_shift, nullptr};
    return prog->eval(prog->entry_of(e.get()), env);
  }
  void rhs(double t, const double* y, double* out, const double* params, const double* ring,
           const std::int64_t* head) const {
    Env env{t, y, params, ring, head, 0, out};
    prog->eval(rhs_entry, env);
  }
  bool has_model_jacobian() const { return jac_entry >= 0; }
  void jacobian(double t, const double* y, double* J, const double* params, const double* ring,
                const std::int64_t* head) const {
    Env env{t, y, params, ring, head, 0, J};
    prog->eval(jac_entry, env);
  }
  bool user_break() const {
    if (!user_break_flag) return false;
    return std::atomic_ref<std::int32_t>(*const_cast<std::int32_t*>(user_break_flag))
               .load(std::memory_order_relaxed) != 0;
  }
};

}  // namespace dynlib::interp
