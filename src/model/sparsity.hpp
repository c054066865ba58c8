// Sparse Jacobians of large models: which states each right-hand side refers to, and the symbolic
// analysis that lets bdf factor I - c J in sparse form (ir::SparseLu; docs/internals/sparse_lu.md):
// a minimum-degree order of the symmetrised pattern, the pattern of the LU factors in that order
// (diagonal pivots), and groups of columns that share no row (one rhs evaluation per group for
// finite differences).
#pragma once
#include <cstdint>
#include <dynlib/export.hpp>
#include <dynlib/ir.hpp>
#include <memory>
#include <optional>
#include <vector>

namespace dynlib::model {

// The sparse path is considered from this many states on (smaller systems factor densely in no time).
inline constexpr int kSparseMinStates = 100;

// For each rhs i, the states it refers to directly (not through lags), ascending; nullopt when walking
// the expressions would cost more than max_work node visits (shared subexpressions are walked once per
// row that uses them).
DYNLIB_INTERNAL_API std::optional<std::vector<std::vector<std::int64_t>>> rhs_dependencies(
    const ir::ModelIR& m, double max_work);

// Symbolic analysis of an n x n pattern (rows[i] = the columns of row i, ascending). The factors always
// hold the diagonal. nullptr when L+U would need more than max_factor_nnz entries.
DYNLIB_INTERNAL_API std::shared_ptr<const ir::SparseLu> analyse_sparse(
    std::int64_t n, const std::vector<std::vector<std::int64_t>>& rows, std::int64_t max_factor_nnz);

// The sparse structure bdf and radau5 use for the model, or null (dense or band). The rule: an ODE with at
// least kSparseMinStates states, no exact Jacobian (neither the model's own nor a derived one: the sparse
// path evaluates J by finite differences), a Jacobian that is not narrow-banded (the band path is cheaper
// then), and LU factors with at most n^2/4 entries (the factors and a work vector of n then fit in the
// n^2 doubles the dense path takes).
DYNLIB_INTERNAL_API std::shared_ptr<const ir::SparseLu> jacobian_sparse_plan(const ir::ModelIR& m);

}  // namespace dynlib::model
