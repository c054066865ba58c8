// Which models and steppers run in lanes (lane_abi.hpp).
#include "kernels/lane_abi.hpp"

namespace dynlib::kernels {
namespace {

bool has_loop(const ir::Node& n) {
  if (n.op == ir::Op::Sum || n.op == ir::Op::Prod || n.op == ir::Op::Lag) return true;
  for (const auto& a : n.args)
    if (a && has_loop(*a)) return true;
  return false;
}

}  // namespace

bool lanes_supported(const ir::ModelIR& model, const StepperInfo& stepper, std::string* why) {
  auto no = [&](const char* reason) {
    if (why != nullptr) *why = reason;
    return false;
  };
  switch (stepper.id) {
    case StepperId::map:
    case StepperId::euler:
    case StepperId::rk2:
    case StepperId::rk4:
      break;
    default:
      return no("the stepper is not one of map, euler, rk2, rk4");
  }
  if (!model.events.empty()) return no("the model has events");
  if (!model.lags.empty()) return no("the model has lagged states");
  for (const auto& e : model.rhs)
    if (e && has_loop(*e)) return no("an equation has a sum()/prod() loop");
  if (model.stop && has_loop(*model.stop)) return no("the stop condition has a sum()/prod() loop");
  return true;
}

}  // namespace dynlib::kernels
