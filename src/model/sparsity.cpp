// Sparse Jacobian structure and symbolic LU analysis; decisions in sparsity.hpp.
#include "model/sparsity.hpp"

#include <algorithm>
#include <set>
#include <unordered_map>
#include <utility>

namespace dynlib::model {

std::optional<std::vector<std::vector<std::int64_t>>> rhs_dependencies(const ir::ModelIR& m,
                                                                       double max_work) {
  const std::size_t n = m.rhs.size();
  std::vector<std::vector<std::int64_t>> rows(n);
  std::unordered_map<const ir::Node*, std::size_t> seen;  // node -> last row that visited it (+1)
  std::vector<const ir::Node*> stack;
  double work = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!m.rhs[i]) continue;
    stack.push_back(m.rhs[i].get());
    while (!stack.empty()) {
      const ir::Node* x = stack.back();
      stack.pop_back();
      auto& mark = seen[x];
      if (mark == i + 1) continue;
      mark = i + 1;
      if (++work > max_work) return std::nullopt;
      if (x->op == ir::Op::State) rows[i].push_back(x->index);
      for (const auto& a : x->args)
        if (a) stack.push_back(a.get());
    }
    std::sort(rows[i].begin(), rows[i].end());
    rows[i].erase(std::unique(rows[i].begin(), rows[i].end()), rows[i].end());
  }
  return rows;
}

std::shared_ptr<const ir::SparseLu> analyse_sparse(std::int64_t n,
                                                   const std::vector<std::vector<std::int64_t>>& rows,
                                                   std::int64_t max_factor_nnz) {
  using I = std::int64_t;
  auto out = std::make_shared<ir::SparseLu>();
  out->n = n;
  const auto un = static_cast<std::size_t>(n);

  // Symmetrised graph without the diagonal.
  std::vector<std::vector<I>> adj(un);
  for (I i = 0; i < n; ++i)
    for (I j : rows[static_cast<std::size_t>(i)])
      if (j != i) {
        adj[static_cast<std::size_t>(i)].push_back(j);
        adj[static_cast<std::size_t>(j)].push_back(i);
      }
  for (auto& a : adj) {
    std::sort(a.begin(), a.end());
    a.erase(std::unique(a.begin(), a.end()), a.end());
  }

  // Minimum degree on the elimination graph (ties: the lowest state index, so the order is
  // reproducible). Eliminating v joins its remaining neighbours into a clique: they are the
  // off-diagonal pattern of v's row and column in the factors.
  std::set<std::pair<I, I>> by_degree;
  for (I v = 0; v < n; ++v) by_degree.emplace(static_cast<I>(adj[static_cast<std::size_t>(v)].size()), v);
  std::vector<std::vector<I>> elim_nb(un);
  std::vector<I> pos(un, -1);
  I fill = n;  // the diagonal
  std::vector<I> merged;
  for (I k = 0; k < n; ++k) {
    const I v = by_degree.begin()->second;
    by_degree.erase(by_degree.begin());
    pos[static_cast<std::size_t>(v)] = k;
    out->perm.push_back(v);
    std::vector<I> nb = std::move(adj[static_cast<std::size_t>(v)]);
    fill += 2 * static_cast<I>(nb.size());
    if (fill > max_factor_nnz) return nullptr;
    for (I u : nb) {
      auto& au = adj[static_cast<std::size_t>(u)];
      by_degree.erase({static_cast<I>(au.size()), u});
      merged.clear();
      std::set_union(au.begin(), au.end(), nb.begin(), nb.end(), std::back_inserter(merged));
      merged.erase(std::remove_if(merged.begin(), merged.end(), [&](I w) { return w == u || w == v; }),
                   merged.end());
      au.swap(merged);
      by_degree.emplace(static_cast<I>(au.size()), u);
    }
    elim_nb[static_cast<std::size_t>(v)] = std::move(nb);
  }

  // Pattern of L+U in the new order: row k = the diagonal, the columns of v_k's clique (U) and the rows
  // of earlier cliques that contain v_k (L).
  std::vector<std::vector<I>> frow(un);
  for (I k = 0; k < n; ++k) {
    const I v = out->perm[static_cast<std::size_t>(k)];
    frow[static_cast<std::size_t>(k)].push_back(k);
    for (I u : elim_nb[static_cast<std::size_t>(v)]) {
      const I p = pos[static_cast<std::size_t>(u)];
      frow[static_cast<std::size_t>(k)].push_back(p);
      frow[static_cast<std::size_t>(p)].push_back(k);
    }
  }
  out->row_start.push_back(0);
  for (I k = 0; k < n; ++k) {
    auto& r = frow[static_cast<std::size_t>(k)];
    std::sort(r.begin(), r.end());
    out->diag.push_back(static_cast<I>(out->col.size()) +
                        (std::lower_bound(r.begin(), r.end(), k) - r.begin()));
    out->col.insert(out->col.end(), r.begin(), r.end());
    out->row_start.push_back(static_cast<I>(out->col.size()));
  }

  // J by columns, and where each entry lands in the factors.
  std::vector<std::vector<I>> jcols(un);
  for (I i = 0; i < n; ++i)
    for (I j : rows[static_cast<std::size_t>(i)]) jcols[static_cast<std::size_t>(j)].push_back(i);
  out->jcol_start.push_back(0);
  for (I j = 0; j < n; ++j) {
    for (I i : jcols[static_cast<std::size_t>(j)]) {
      const I pi = pos[static_cast<std::size_t>(i)], pj = pos[static_cast<std::size_t>(j)];
      const auto b = out->col.begin() + out->row_start[static_cast<std::size_t>(pi)];
      const auto e = out->col.begin() + out->row_start[static_cast<std::size_t>(pi) + 1];
      out->jrow.push_back(i);
      out->jslot.push_back(std::lower_bound(b, e, pj) - out->col.begin());  // present: see above
    }
    out->jcol_start.push_back(static_cast<I>(out->jrow.size()));
  }

  // Greedy grouping of columns: a column joins the first group none of whose columns shares a row
  // with it.
  std::vector<I> group(un, -1);
  I n_groups = 0;
  for (I j = 0; j < n; ++j) {
    std::vector<char> used(static_cast<std::size_t>(n_groups) + 1, 0);
    for (I i : jcols[static_cast<std::size_t>(j)])
      for (I q : rows[static_cast<std::size_t>(i)])
        if (q != j && group[static_cast<std::size_t>(q)] >= 0) used[static_cast<std::size_t>(group[q])] = 1;
    I g = 0;
    while (used[static_cast<std::size_t>(g)]) ++g;
    group[static_cast<std::size_t>(j)] = g;
    n_groups = std::max(n_groups, g + 1);
  }
  out->group_start.assign(static_cast<std::size_t>(n_groups) + 1, 0);
  for (I j = 0; j < n; ++j)
    ++out->group_start[static_cast<std::size_t>(group[static_cast<std::size_t>(j)]) + 1];
  for (I g = 0; g < n_groups; ++g)
    out->group_start[static_cast<std::size_t>(g) + 1] += out->group_start[static_cast<std::size_t>(g)];
  out->group_cols.resize(un);
  std::vector<I> next(out->group_start.begin(), out->group_start.end() - 1);
  for (I j = 0; j < n; ++j)
    out->group_cols[static_cast<std::size_t>(
        next[static_cast<std::size_t>(group[static_cast<std::size_t>(j)])]++)] = j;
  return out;
}

std::shared_ptr<const ir::SparseLu> jacobian_sparse_plan(const ir::ModelIR& m) {
  const auto n = static_cast<std::int64_t>(m.rhs.size());
  if (m.kind != ir::Kind::ode || n < kSparseMinStates || m.exact_jacobian()) return nullptr;
  // Narrow band: bdf's band path (kernels/band_lu.hpp use_band) is taken instead.
  if (m.jacobian_ml >= 0 && m.jacobian_mu >= 0 && (m.jacobian_ml + m.jacobian_mu + 1) * 4 < n) return nullptr;
  const auto rows = rhs_dependencies(m, 5e7);
  if (!rows) return nullptr;
  return analyse_sparse(n, *rows, n * n / 4);
}

}  // namespace dynlib::model
