#include "engine/valuation.hpp"

#include <cstring>

namespace entangle {

void EntangledValuation::solve(std::span<const double> equity, const Eigen::VectorXd& own, Eigen::VectorXd& value) {
    const Eigen::Index n = own.size();
    const bool same = factored_equity_.size() == equity.size() &&
                      std::memcmp(factored_equity_.data(), equity.data(), equity.size_bytes()) == 0;
    if (!same) {
        factored_equity_.assign(equity.begin(), equity.end());
        system_.setIdentity(n, n);
        for (Eigen::Index i = 0; i < n; ++i)
            for (Eigen::Index j = 0; j < n; ++j) system_(i, j) -= equity[static_cast<std::size_t>(i * n + j)];
        lu_.compute(system_);
    }
    value.noalias() = lu_.solve(own);
    if (!value.allFinite()) value = own;  // ownership entirely circular: no defined entanglement
}

}  // namespace entangle
