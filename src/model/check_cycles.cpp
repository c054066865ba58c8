// Dependency cycles over aux ∪ functions, found on the AST (a function argument that shadows
// an aux is not a dependency). The message shows the whole cycle, starting at its first-declared member.
#include <algorithm>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <set>

#include "model/lower_internal.hpp"
#include "util/deep_stack.hpp"

namespace dynlib::model::detail {

using ast::K;
using ast::Node;

namespace {

// Names of aux/functions that an expression depends on, in order of first appearance.
void collect_deps(const Model& m, const Node& n, std::vector<std::string>& locals,
                  std::vector<std::string>& out) {
  if (util::stack_low()) throw ModelLoadError("Expression nested too deeply to check for dependency cycles");
  auto is_local = [&](const std::string& s) {
    return std::find(locals.begin(), locals.end(), s) != locals.end();
  };
  auto add = [&](const std::string& s) {
    if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
  };
  if (n.kind == K::Name && !is_local(n.name)) {
    if (m.aux_idx.count(n.name) && !m.state_idx.count(n.name) && !m.param_idx.count(n.name)) add(n.name);
  } else if (n.kind == K::Call) {
    const CallInfo ci = classify_call(m, n.name);
    if (ci.kind == CallKind::User) add(n.name);
  }
  if (n.kind == K::Gen) {
    locals.push_back(n.var);
    collect_deps(m, *n.kids[0], locals, out);
    for (std::size_t i = static_cast<std::size_t>(n.n_range) + 1; i < n.kids.size(); ++i)
      collect_deps(m, *n.kids[i], locals, out);
    locals.pop_back();
    for (int i = 1; i <= n.n_range; ++i) collect_deps(m, *n.kids[static_cast<std::size_t>(i)], locals, out);
    return;
  }
  for (const auto& k : n.kids) collect_deps(m, *k, locals, out);
}

}  // namespace

void check_cycles(const Model& m) {
  const ModelSpec& s = *m.spec;
  // Node ids: aux 0..na-1, functions na..na+nf-1.
  const std::size_t na = s.aux.size(), nf = s.functions.size();
  std::vector<std::vector<std::size_t>> edges(na + nf);
  std::vector<std::string> names(na + nf);
  for (std::size_t i = 0; i < na; ++i) names[i] = s.aux[i].first;
  for (std::size_t i = 0; i < nf; ++i) names[na + i] = s.functions[i].name;
  auto id_of = [&](const std::string& n) -> std::size_t {
    if (auto it = m.fn_idx.find(n); it != m.fn_idx.end()) return na + static_cast<std::size_t>(it->second);
    return static_cast<std::size_t>(m.aux_idx.at(n));
  };
  for (std::size_t i = 0; i < na + nf; ++i) {
    std::vector<std::string> locals, deps;
    if (i >= na) locals = s.functions[i - na].args;
    const ParsedExpr& e = i < na ? m.aux_expr[i] : m.fn_body[i - na];
    if (e.root) collect_deps(m, *e.root, locals, deps);
    for (const auto& d : deps) {
      // A name resolves to a function only when called, to an aux when used as a name; both maps are
      // disjoint.
      edges[i].push_back(id_of(d));
    }
  }
  std::vector<int> color(na + nf, 0);
  std::vector<std::size_t> stack;
  std::function<void(std::size_t)> dfs = [&](std::size_t u) {
    if (util::stack_low())
      throw CyclicDependencyError(
          "Chain of aux/function dependencies too long to check, at '" + names[u] + "'",
          u < na ? s.aux[u].second.loc : s.functions[u - na].body.loc);
    color[u] = 1;
    stack.push_back(u);
    for (std::size_t v : edges[u]) {
      if (color[v] == 1) {
        // The cycle is stack[pos..] -> v. Report it at the member declared first in the file
        // (by line when known, else aux before functions in declaration order), starting the path there.
        std::vector<std::size_t> cyc(std::find(stack.begin(), stack.end(), v), stack.end());
        auto loc_of = [&](std::size_t id) -> const SourceLocation& {
          return id < na ? s.aux[id].second.loc : s.functions[id - na].body.loc;
        };
        auto key = [&](std::size_t id) {
          const int line = loc_of(id).line;
          return std::make_pair(line > 0 ? line : std::numeric_limits<int>::max(), id);
        };
        std::size_t first = 0;
        for (std::size_t j = 1; j < cyc.size(); ++j)
          if (key(cyc[j]) < key(cyc[first])) first = j;
        std::rotate(cyc.begin(), cyc.begin() + static_cast<std::ptrdiff_t>(first), cyc.end());
        std::string path;
        for (std::size_t id : cyc) path += names[id] + " -> ";
        path += names[cyc[0]];
        const SourceLocation& loc = loc_of(cyc[0]);
        throw CyclicDependencyError("Cyclic dependency detected involving '" + names[cyc[0]] + "': " + path,
                                    loc);
      }
      if (color[v] == 0) dfs(v);
    }
    stack.pop_back();
    color[u] = 2;
  };
  for (std::size_t i = 0; i < na + nf; ++i)
    if (color[i] == 0) dfs(i);
}
}  // namespace dynlib::model::detail
