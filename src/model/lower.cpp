// lower_model: ModelSpec -> checked, canonical ModelIR (+ hash). Orchestrates the check_* and lower_*
// steps in the reference's validation order, then assembles the IR.
#include "model/lower.hpp"

#include "model/derive.hpp"
#include "model/lower_internal.hpp"
#include "model/sparsity.hpp"
#include "util/deep_stack.hpp"

namespace dynlib::model {

namespace {

ir::DType dtype_of(const std::string& s) {
  if (s == "float32") return ir::DType::float32;
  if (s == "int64") return ir::DType::int64;
  return ir::DType::float64;
}

std::vector<ir::LogItem> lower_log(const detail::Model& m, const EventSpec& ev) {
  std::vector<ir::LogItem> out;
  for (const auto& item : ev.log) {
    ir::LogItem li;
    li.name = item.text;
    const std::string& s = item.text;
    auto find = [&](const std::unordered_map<std::string, int>& tbl, const std::string& n, int& idx) {
      auto it = tbl.find(n);
      if (it == tbl.end()) return false;
      idx = it->second;
      return true;
    };
    const auto colon = s.find(':');
    if (s == "t") {
      li.kind = ir::LogItem::Kind::Time;
    } else if (colon != std::string::npos) {
      const std::string prefix = s.substr(0, colon), name = s.substr(colon + 1);
      if (prefix == "state") {
        li.kind = ir::LogItem::Kind::State;
        if (!find(m.state_idx, name, li.index))
          throw EventError("Unknown state in log signal: '" + s + "' in [events." + ev.name + "].log",
                           item.loc);
      } else if (prefix == "param") {
        li.kind = ir::LogItem::Kind::Param;
        if (!find(m.param_idx, name, li.index))
          throw EventError("Unknown parameter in log signal: '" + s + "' in [events." + ev.name + "].log",
                           item.loc);
      } else if (prefix == "aux") {
        li.kind = ir::LogItem::Kind::Aux;
        if (!find(m.aux_idx, name, li.index))
          throw EventError("Unknown aux in log signal: '" + s + "' in [events." + ev.name + "].log",
                           item.loc);
      } else {
        throw EventError("Unknown log signal prefix: '" + prefix +
                             "' (use 'state:', 'param:', or 'aux:') in [events." + ev.name + "].log",
                         item.loc);
      }
    } else if (find(m.state_idx, s, li.index)) {
      li.kind = ir::LogItem::Kind::State;
    } else if (find(m.param_idx, s, li.index)) {
      li.kind = ir::LogItem::Kind::Param;
    } else if (find(m.aux_idx, s, li.index)) {
      li.kind = ir::LogItem::Kind::Aux;
    } else {
      throw EventError("Unknown signal in log specification: '" + s + "' in [events." + ev.name +
                           "].log (use t, a state/param/aux name, or state:/param:/aux: prefixes)",
                       item.loc);
    }
    out.push_back(std::move(li));
  }
  return out;
}

ir::ModelIR lower_model_here(const ModelSpec& spec) {
  detail::check_declarations(spec);

  detail::Model m;
  m.spec = &spec;
  m.kind = spec.kind;
  m.dtype = dtype_of(spec.dtype);
  for (std::size_t i = 0; i < spec.states.size(); ++i)
    m.state_idx.emplace(spec.states[i].first, static_cast<int>(i));
  for (std::size_t i = 0; i < spec.params.size(); ++i)
    m.param_idx.emplace(spec.params[i].first, static_cast<int>(i));
  for (std::size_t i = 0; i < spec.aux.size(); ++i) m.aux_idx.emplace(spec.aux[i].first, static_cast<int>(i));
  for (std::size_t i = 0; i < spec.functions.size(); ++i)
    m.fn_idx.emplace(spec.functions[i].name, static_cast<int>(i));
  m.const_val["pi"] = m.cast(detail::kPi);
  m.const_val["e"] = m.cast(detail::kE);
  for (const auto& [name, v] : spec.constants) m.const_val[name] = m.cast(v.value);
  m.lag_depth.assign(spec.states.size(), 0);
  m.lag_slot.assign(spec.states.size(), -1);

  detail::parse_all(m);
  detail::check_cycles(m);
  detail::check_expressions(m);

  ir::ModelIR out;
  out.kind = spec.kind;
  out.name = spec.name;
  out.dtype = m.dtype;
  out.source = spec.source;
  for (const auto& [n, v] : spec.states) {
    out.states.push_back(n);
    out.state_ic.push_back(v.value);
  }
  for (const auto& [n, v] : spec.params) {
    out.params.push_back(n);
    out.param_vals.push_back(v.value);
  }
  for (const auto& [n, v] : spec.constants) out.constants.emplace_back(n, m.cast(v.value));
  for (const auto& [n, l] : spec.aux) out.aux.push_back(n);

  // Lag slots in state declaration order.
  for (std::size_t s = 0; s < spec.states.size(); ++s) {
    if (m.lag_depth[s] == 0) continue;
    ir::LagSlot slot;
    slot.state = static_cast<std::int32_t>(s);
    slot.depth = m.lag_depth[s] + 1;
    slot.offset = out.lag_ring_size;
    out.lag_ring_size += slot.depth;
    m.lag_slot[s] = static_cast<int>(out.lags.size());
    out.lags.push_back(slot);
  }

  // Equations: one per state (checked), placed at the state's index.
  out.rhs.resize(spec.states.size());
  for (std::size_t i = 0; i < spec.equations.size(); ++i)
    out.rhs[static_cast<std::size_t>(m.state_idx.at(spec.equations[i].target))] =
        detail::lower_site(m, m.eq_expr[i]);
  if (spec.inverse) {
    out.inverse.emplace(spec.states.size());
    for (std::size_t i = 0; i < spec.inverse->size(); ++i)
      (*out.inverse)[static_cast<std::size_t>(m.state_idx.at((*spec.inverse)[i].target))] =
          detail::lower_site(m, m.inv_expr[i]);
  }
  if (spec.jacobian) {
    out.jacobian.emplace();
    for (const auto& row : m.jac_expr) {
      out.jacobian->emplace_back();
      for (const auto& c : row) out.jacobian->back().push_back(detail::lower_site(m, c));
    }
  }
  for (std::size_t i = 0; i < spec.aux.size(); ++i)
    out.aux_exprs.push_back(detail::lower_aux(m, static_cast<int>(i)));

  for (std::size_t i = 0; i < spec.events.size(); ++i) {
    const EventSpec& es = spec.events[i];
    ir::Event ev;
    ev.name = es.name;
    ev.phase = es.phase;
    if (es.root_form) {
      ev.root = detail::lower_site(m, m.ev_cond[i]);
      ev.direction = es.direction;
      ev.terminal = es.terminal;
    } else {
      ev.cond = detail::lower_site(m, m.ev_cond[i]);
    }
    for (std::size_t j = 0; j < es.actions.size(); ++j) {
      ir::Action a;
      const std::string& tgt = es.actions[j].target;
      if (auto it = m.state_idx.find(tgt); it != m.state_idx.end()) {
        a.target = ir::Action::Target::State;
        a.index = it->second;
      } else {
        a.target = ir::Action::Target::Param;
        a.index = m.param_idx.at(tgt);
      }
      a.value = detail::lower_site(m, m.ev_action[i][j]);
      ev.actions.push_back(std::move(a));
    }
    ev.log = lower_log(m, es);
    ev.tags = es.tags;
    out.events.push_back(std::move(ev));
  }
  if (!m.stop_expr.empty()) out.stop = detail::lower_site(m, m.stop_expr[0]);

  out.n_loop_slots = m.n_loop_slots;
  out.sim = spec.sim.defaults;
  for (const auto& p : spec.presets) {
    ir::Preset pr;
    pr.name = p.name;
    for (const auto& [k, v] : p.params) pr.params.emplace_back(m.param_idx.at(k), v.value);
    for (const auto& [k, v] : p.states) pr.states.emplace_back(m.state_idx.at(k), v.value);
    out.presets.push_back(std::move(pr));
  }
  out.hash = ir::compute_hash(out);
  // Symbolic Jacobian when the model has none; after the hash on purpose: it derives from hashed content.
  if (!out.jacobian) out.derived_jacobian = derive_jacobian(out);
  const auto [ml, mu] = jacobian_bandwidth(out);
  out.jacobian_ml = ml;
  out.jacobian_mu = mu;
  out.jacobian_sparse = jacobian_sparse_plan(out);
  if (out.kind == ir::Kind::ode) {
    out.rhs_refers_to_time = false;
    for (const auto& e : out.rhs) out.rhs_refers_to_time = out.rhs_refers_to_time || depends_on_time(e);
    if (out.rhs_refers_to_time) out.derived_time_derivative = derive_time_derivative(out);
  }
  return out;
}

}  // namespace

ir::ModelIR lower_model(const ModelSpec& spec) {
  // Checking, lowering, hashing and deriving recurse once per nesting level of an expression.
  ir::ModelIR out;
  util::run_with_large_stack([&] { out = lower_model_here(spec); });
  return out;
}

}  // namespace dynlib::model
