// Model hash: XXH3-128 over a canonical byte serialization of the lowered IR.
//
// Canonical form (all integers little-endian, strings length-prefixed, doubles by bit pattern):
//   "dynlib-ir/1", kind, dtype, name, states (name, ic), params (name, value), constants (name, value),
//   aux (name, expr) in declaration order (it defines the recording order), rhs[], inverse?, jacobian?,
//   events in order (name, phase, cond, [root events: root, direction, terminal], actions in order (target,
//   index, expr), log (kind, index, name), tags), stop?, lags (state, depth, offset), lag_ring_size,
//   n_loop_slots, sim defaults (incl. extras in file order), presets in order.
// Expressions are hashed structurally (Merkle style: a node's digest covers op, payload and its
// children's digests), so shared subtrees (inlined aux, x*x) cost once and the digest depends only
// on the tree, never on how it is shared. The source path is not hashed: same model => same hash.
#include <xxhash.h>

#include <bit>
#include <cstring>
#include <dynlib/ir.hpp>
#include <unordered_map>

#include "model/lower.hpp"
#include "util/deep_stack.hpp"

namespace dynlib::ir {

namespace {

class Writer {
 public:
  std::string buf;
  void u8(std::uint8_t v) { buf.push_back(static_cast<char>(v)); }
  void u64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) buf.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  void f64(double d) { u64(std::bit_cast<std::uint64_t>(d)); }
  void str(const std::string& s) {
    u64(s.size());
    buf += s;
  }
  void h(const Hash128& x) {
    u64(x.hi);
    u64(x.lo);
  }
};

Hash128 digest(const std::string& bytes) {
  const XXH128_hash_t r = XXH3_128bits(bytes.data(), bytes.size());
  return Hash128{r.high64, r.low64};
}

class ExprHasher {
 public:
  Hash128 operator()(const Expr& e) {
    if (!e) return Hash128{0, 0};
    if (auto it = memo_.find(e.get()); it != memo_.end()) return it->second;
    if (util::stack_low()) throw DynlibError("model hash: expression nested too deeply");
    Writer w;
    w.u8(static_cast<std::uint8_t>(e->op));
    switch (e->op) {
      case Op::Const:
        w.f64(e->value);
        break;
      case Op::State:
      case Op::Param:
      case Op::LoopVar:
      case Op::Sum:
      case Op::Prod:
        w.i64(e->index);
        break;
      case Op::Lag:
        w.i64(e->index);
        w.i64(e->k);
        break;
      case Op::Call:
        w.u8(static_cast<std::uint8_t>(e->fn));
        break;
      default:
        break;
    }
    w.u64(e->args.size());
    for (const auto& a : e->args) w.h((*this)(a));
    const Hash128 r = digest(w.buf);
    memo_.emplace(e.get(), r);
    return r;
  }

 private:
  std::unordered_map<const Node*, Hash128> memo_;
};

}  // namespace

Hash128 compute_hash(const ModelIR& m) {
  Writer w;
  ExprHasher eh;
  auto expr = [&](const Expr& e) {
    w.u8(e ? 1 : 0);
    if (e) w.h(eh(e));
  };
  w.str("dynlib-ir/1");
  w.u8(static_cast<std::uint8_t>(m.kind));
  w.u8(static_cast<std::uint8_t>(m.dtype));
  w.str(m.name);
  w.u64(m.states.size());
  for (std::size_t i = 0; i < m.states.size(); ++i) {
    w.str(m.states[i]);
    w.f64(i < m.state_ic.size() ? m.state_ic[i] : 0.0);
  }
  w.u64(m.params.size());
  for (std::size_t i = 0; i < m.params.size(); ++i) {
    w.str(m.params[i]);
    w.f64(i < m.param_vals.size() ? m.param_vals[i] : 0.0);
  }
  w.u64(m.constants.size());
  for (const auto& [n, v] : m.constants) {
    w.str(n);
    w.f64(v);
  }
  w.u64(m.aux.size());
  for (std::size_t i = 0; i < m.aux.size(); ++i) {
    w.str(m.aux[i]);
    expr(i < m.aux_exprs.size() ? m.aux_exprs[i] : nullptr);
  }
  w.u64(m.rhs.size());
  for (const auto& e : m.rhs) expr(e);
  w.u8(m.inverse ? 1 : 0);
  if (m.inverse) {
    w.u64(m.inverse->size());
    for (const auto& e : *m.inverse) expr(e);
  }
  w.u8(m.jacobian ? 1 : 0);
  if (m.jacobian) {
    w.u64(m.jacobian->size());
    for (const auto& row : *m.jacobian) {
      w.u64(row.size());
      for (const auto& e : row) expr(e);
    }
  }
  w.u64(m.events.size());
  for (const auto& ev : m.events) {
    w.str(ev.name);
    w.u8(static_cast<std::uint8_t>(ev.phase));
    expr(ev.cond);
    if (ev.root) {  // a condition event has a cond, so this never collides with one
      expr(ev.root);
      w.u8(static_cast<std::uint8_t>(ev.direction));
      w.i64(ev.terminal);
    }
    w.u64(ev.actions.size());
    for (const auto& a : ev.actions) {
      w.u8(static_cast<std::uint8_t>(a.target));
      w.i64(a.index);
      expr(a.value);
    }
    w.u64(ev.log.size());
    for (const auto& l : ev.log) {
      w.u8(static_cast<std::uint8_t>(l.kind));
      w.i64(l.index);
      w.str(l.name);
    }
    w.u64(ev.tags.size());
    for (const auto& t : ev.tags) w.str(t);
  }
  expr(m.stop);
  w.u64(m.lags.size());
  for (const auto& l : m.lags) {
    w.i64(l.state);
    w.i64(l.depth);
    w.i64(l.offset);
  }
  w.i64(m.lag_ring_size);
  w.i64(m.n_loop_slots);
  const SimDefaults& s = m.sim;
  w.f64(s.t0);
  w.f64(s.t_end);
  w.f64(s.dt);
  w.str(m.default_stepper());  // "" means the kind's default: same behaviour, same hash
  w.u8(s.record ? 1 : 0);
  w.f64(s.atol);
  w.f64(s.rtol);
  w.i64(s.max_steps);
  w.u64(s.extras.size());
  for (const auto& [k, v] : s.extras) {
    w.str(k);
    w.f64(v);
  }
  w.u64(s.string_extras.size());
  for (const auto& [k, v] : s.string_extras) {
    w.str(k);
    w.str(v);
  }
  w.u64(m.presets.size());
  for (const auto& p : m.presets) {
    w.str(p.name);
    w.u64(p.params.size());
    for (const auto& [i, v] : p.params) {
      w.i64(i);
      w.f64(v);
    }
    w.u64(p.states.size());
    for (const auto& [i, v] : p.states) {
      w.i64(i);
      w.f64(v);
    }
  }
  return digest(w.buf);
}

std::string Hash128::hex() const {
  static const char* d = "0123456789abcdef";
  std::string s(32, '0');
  for (int i = 0; i < 16; ++i) {
    s[static_cast<std::size_t>(15 - i)] = d[(hi >> (4 * i)) & 0xf];
    s[static_cast<std::size_t>(31 - i)] = d[(lo >> (4 * i)) & 0xf];
  }
  return s;
}

}  // namespace dynlib::ir
