#pragma once
// A firm's entangled value (MODEL.md 11).
#include <Eigen/Dense>
#include <span>
#include <vector>

namespace entangle {

// V = (I - E)^-1 own, with E[i*n + j] the share of j held by i: each firm's
// value includes its stakes in others (MODEL.md 11). The factorisation of
// I - E is kept until E changes, which is rare (deals, funding rounds,
// acquisitions), while own values change every month.
class EntangledValuation {
public:
    void solve(std::span<const double> equity, const Eigen::VectorXd& own, Eigen::VectorXd& value);

private:
    std::vector<double> factored_equity_;  // the E of lu_, compared bit for bit
    Eigen::MatrixXd system_;
    Eigen::PartialPivLU<Eigen::MatrixXd> lu_;
};

}  // namespace entangle
