// All stepper kernels and a compile-time dispatch on StepperId.
#pragma once
#include <stdexcept>

#include "kernels/stepper_ab.hpp"
#include "kernels/stepper_bdf.hpp"
#include "kernels/stepper_dop853.hpp"
#include "kernels/stepper_explicit.hpp"
#include "kernels/stepper_implicit.hpp"
#include "kernels/stepper_radau5.hpp"
#include "kernels/stepper_rk45.hpp"
#include "kernels/stepper_rosenbrock.hpp"
#include "kernels/stepper_tsit5.hpp"
#include "kernels/stepper_vern9.hpp"
#include "steppers_catalogue/stepper_registry.hpp"

namespace dynlib::kernels {

// Calls f(StepperFunctor{}) for the stepper `id`.
template <class F>
decltype(auto) with_stepper(StepperId id, F&& f) {
  switch (id) {
    case StepperId::map:
      return f(StepMap{});
    case StepperId::euler:
      return f(StepEuler{});
    case StepperId::rk2:
      return f(StepRK2{});
    case StepperId::rk4:
      return f(StepRK4{});
    case StepperId::rk45:
      return f(StepRK45{});
    case StepperId::ab2:
      return f(StepAB2{});
    case StepperId::ab3:
      return f(StepAB3{});
    case StepperId::sdirk2:
      return f(StepSDIRK2{});
    case StepperId::bdf2:
      return f(StepBDF2{});
    case StepperId::bdf2a:
      return f(StepBDF2A{});
    case StepperId::trbdf2a:
      return f(StepTRBDF2A{});
    case StepperId::tsit5:
      return f(StepTsit5{});
    case StepperId::dop853:
      return f(StepDOP853{});
    case StepperId::radau5:
      return f(StepRadau5{});
    case StepperId::rodas5p:
      return f(StepRodas5P{});
    case StepperId::rodas4:
      return f(StepRodas4{});
    case StepperId::bdf:
      return f(StepBDF{});
    case StepperId::vern9:
      return f(StepVern9{});
  }
  throw std::logic_error("with_stepper: unknown stepper id");
}

}  // namespace dynlib::kernels
