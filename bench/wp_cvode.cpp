// SUNDIALS CVODE anchors of the work-precision bench (the 6.x C API); see wp_anchors.hpp.
// BDF: Newton iteration with the dense direct linear solver and CVODE's own difference-quotient Jacobian.
// Adams: fixed-point iteration (no Jacobian), the usual choice for non-stiff problems.
// Built without SUNDIALS, the functions report that CVODE is absent.
#include "wp_anchors.hpp"

#if DYNLIB_WP_HAVE_CVODE
#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sundials/sundials_context.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunnonlinsol/sunnonlinsol_fixedpoint.h>

#include <cstdlib>
#include <string>
#endif

namespace wp {

#if DYNLIB_WP_HAVE_CVODE
namespace {

int cv_rhs(realtype t, N_Vector y, N_Vector dy, void* user) {
  auto* f = static_cast<CountedRhs*>(user);
  return (*f)(t, N_VGetArrayPointer(y), N_VGetArrayPointer(dy)) ? 0 : -1;  // < 0: stop, unrecoverable
}

// Owns the CVODE objects of one solve (freed in reverse order of creation).
struct CvodeRun {
  SUNContext ctx = nullptr;
  N_Vector y = nullptr;
  void* mem = nullptr;
  SUNMatrix A = nullptr;
  SUNLinearSolver LS = nullptr;
  SUNNonlinearSolver NLS = nullptr;
  ~CvodeRun() {
    if (mem) CVodeFree(&mem);
    if (NLS) SUNNonlinSolFree(NLS);
    if (LS) SUNLinSolFree(LS);
    if (A) SUNMatDestroy(A);
    if (y) N_VDestroy(y);
    if (ctx) SUNContext_Free(&ctx);
  }
};

}  // namespace

bool have_cvode() { return true; }

SolveStats cvode_solve(const Problem& p, CvodeMethod m, double rtol, double atol, const Budget& budget) {
  SolveStats s;
  CountedRhs f{&p, budget.deadline};
  CvodeRun r;
  auto fail = [&](const char* what) {
    s.status = "ERROR";
    s.detail = what;
    return s;
  };
  if (SUNContext_Create(nullptr, &r.ctx) != 0) return fail("SUNContext_Create");
  r.y = N_VNew_Serial(p.n, r.ctx);
  if (!r.y) return fail("N_VNew_Serial");
  for (int i = 0; i < p.n; ++i) NV_Ith_S(r.y, i) = p.y0[static_cast<std::size_t>(i)];
  r.mem = CVodeCreate(m == CvodeMethod::bdf ? CV_BDF : CV_ADAMS, r.ctx);
  if (!r.mem) return fail("CVodeCreate");
  if (CVodeInit(r.mem, cv_rhs, 0.0, r.y) != CV_SUCCESS) return fail("CVodeInit");
  if (CVodeSStolerances(r.mem, rtol, atol) != CV_SUCCESS) return fail("CVodeSStolerances");
  CVodeSetUserData(r.mem, &f);
  if (m == CvodeMethod::bdf) {
    r.A = SUNDenseMatrix(p.n, p.n, r.ctx);
    r.LS = SUNLinSol_Dense(r.y, r.A, r.ctx);
    if (!r.A || !r.LS || CVodeSetLinearSolver(r.mem, r.LS, r.A) != CVLS_SUCCESS)
      return fail("dense linear solver");
  } else {
    r.NLS = SUNNonlinSol_FixedPoint(r.y, 0, r.ctx);
    if (!r.NLS || CVodeSetNonlinearSolver(r.mem, r.NLS) != CV_SUCCESS) return fail("fixed-point solver");
  }
  CVodeSetMaxNumSteps(r.mem, static_cast<long>(budget.max_steps));
  CVodeSetStopTime(r.mem, p.t_end);  // step exactly to t_end (no interpolation back from beyond it)
  CVodeSetErrHandlerFn(
      r.mem, [](int, const char*, const char*, char*, void*) {}, nullptr);  // the status says it

  realtype t = 0.0;
  const double t0 =
      solve_clock_seconds();  // the solve proper: CVODE's setup costs about as much as a small solve
  const int flag = CVode(r.mem, p.t_end, r.y, &t, CV_NORMAL);
  s.seconds = solve_clock_seconds() - t0;
  if (flag < 0) {
    s.status = f.expired ? "TIMEOUT" : flag == CV_TOO_MUCH_WORK ? "MAX_STEPS" : "STEPFAIL";
    char* name = CVodeGetReturnFlagName(flag);  // malloc'd by SUNDIALS
    s.detail = name ? name : "";
    free(name);
  }
  long nst = 0, nfe = 0, nfeLS = 0, nje = 0, nsetups = 0;
  CVodeGetNumSteps(r.mem, &nst);
  CVodeGetNumRhsEvals(r.mem, &nfe);
  s.steps = nst;
  s.rhs = nfe;
  if (m == CvodeMethod::bdf) {
    CVodeGetNumLinRhsEvals(r.mem, &nfeLS);
    CVodeGetNumJacEvals(r.mem, &nje);
    CVodeGetNumLinSolvSetups(r.mem, &nsetups);
    s.rhs += nfeLS;
    s.jac = nje;
    s.lu = nsetups;
  }
  s.y.resize(static_cast<std::size_t>(p.n));
  for (int i = 0; i < p.n; ++i) s.y[static_cast<std::size_t>(i)] = NV_Ith_S(r.y, i);
  return s;
}

#else

bool have_cvode() { return false; }
SolveStats cvode_solve(const Problem&, CvodeMethod, double, double, const Budget&) {
  SolveStats s;
  s.status = "UNAVAILABLE";
  s.detail = "built without SUNDIALS CVODE";
  return s;
}

#endif

}  // namespace wp
