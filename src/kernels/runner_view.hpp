// RunnerArgs as seen by a kernel: the same fields typed for a backend B. In/out scalars live in
// two small arrays (dio, iio) that the backend loads from / stores back to RunnerArgs around the
// kernel (DirectBackend: interp.cpp; LLVM: the runner prologue/epilogue).
#pragma once
#include "kernels/backend.hpp"
#include "kernels/runner_abi.hpp"

namespace dynlib::kernels {

// Indices into RunnerView::dio (doubles) and ::iio (int64s).
enum DIO : int { kD_t = 0, kD_dt, kD_err_est, kD_t_fail, kD_count };
enum IIO : int {
  kI_i = 0,
  kI_step,
  kI_m,
  kI_resume,
  kI_status,
  kI_need_rec,
  kI_need_evt,
  kI_nan_where,
  kI_nan_index,
  kI_nan_event,
  kI_save_next,
  kI_count
};

template <class B>
struct RunnerView {
  using Val = typename B::Val;
  using Int = typename B::Int;
  using Arr = typename B::Arr;
  using IArr = typename B::IArr;
  Val t_end{};
  Int step_end{}, record_interval{};
  Val t_base{};
  Int step_base{};
  Val dt_nominal{};
  Arr y_curr{}, y_prev{}, params{}, lag_ring{};
  IArr lag_head{};
  Arr aux_values{};
  IArr event_counts{};
  Arr ws{};
  IArr iws{};
  Arr cfg{};
  Arr y_prop{}, scratch{};
  Arr T{}, Y{}, AUX{};
  IArr STEP{};
  Int cap_rec{};
  IArr state_rec_idx{};
  Int n_rec_states{};
  IArr aux_rec_idx{};
  Int n_rec_aux{};
  IArr EVT_CODE{}, EVT_INDEX{};
  Arr EVT_LOG_DATA{};
  Arr EVT_T{};
  IArr EVT_STEP{};
  Int cap_evt{};
  Arr dio{};   // [kD_count]
  IArr iio{};  // [kI_count]
  // Analysis variant only (kernels/observer.hpp); unused (default) in the BASE runner.
  Arr an_ws{}, an_out{}, an_trace{};
  IArr an_count{};  // [1] -> RunnerArgs::trace_count
  Int trace_cap{}, trace_stride{};
  // Dense output / save_at / tstops (ODE runners; kernels/save_at.hpp). Cursor: iio[kI_save_next].
  Arr dense_ws{}, save_at{}, tstops{};
  Int n_save_at{}, n_tstops{};
};

}  // namespace dynlib::kernels
