// Chipmaker behaviour (MODEL.md 5.1): production, allocation, pricing.
#include <algorithm>
#include <cmath>
#include <vector>

#include "agents/standard_model.hpp"
#include "engine/market/allocation.hpp"
#include "engine/market/economics.hpp"

namespace entangle::agents {
namespace {

double stake_between(const World& w, FirmId a, FirmId b) { return w.equity_at(a, b) + w.equity_at(b, a); }

void reprice_by_backlog(World& w, const ChipmakerRole& role) {
    const Scenario& sc = w.sc();
    const double kappa = w.param(role.kappa), backlog_target_months = w.param(role.backlog_target_months);
    const double margin_factor = 1 + w.param(role.min_margin), max_multiple = w.param(role.max_multiple);
    for (const auto& [c, capacity] : role.capacity_per_month) {
        ChipState& state = w.chips[c];
        const ChipSpec& chip = sc.chips[c];
        if (chip.release > w.month()) continue;
        const BacklogPricing rule{kappa, backlog_target_months, w.param(chip.unit_cost) * margin_factor,
                                  w.list_price[c] * max_multiple,
                                  state.superseded_at <= w.month() ? w.param(chip.age_decay) : 0.0};
        state.price = backlog_price(state.price, state.backlog, state.production_cap / sc.months_per_step,
                                    sc.months_per_step, rule, state.age_decay_pow);
    }
}

}  // namespace

void StandardModel::chipmaker_supply(World& w, RoleIndex m) const {
    ChipmakerState& maker = w.chipmakers[m];
    const ChipmakerRole& role = *w.sc().firms[maker.firm].chipmaker;
    const bool cournot = role.pricing == ChipPricing::cournot;
    double total_cap = 0;  // only Cournot output is shared among the vendor's families
    if (cournot)
        for (const auto& [c, capacity] : role.capacity_per_month) total_cap += w.chips[c].production_cap;
    for (const auto& [c, capacity] : role.capacity_per_month) {
        std::vector<ChipOrder>& orders = w.chips[c].orders;
        if (orders.empty()) continue;  // nothing to share out
        double output = w.chips[c].production_cap;
        if (cournot && total_cap > 0)
            output = std::min(output, maker.cournot_output * w.sc().months_per_step * output / total_cap);
        // With no output (a family not or no longer made, holding a backlog) no order ships:
        // shipping stays at the 0 that ship_orders leaves it at.
        if (output <= 0) continue;
        // Gather this family's open orders (oldest first) into reused scratch.
        // Contracted (priority) orders are served first, oldest first; the rest
        // of the output is shared among open orders by the vendor's rule.
        const std::size_t n = orders.size();
        if (maker.requested.size() < n) {  // the scratch only grows
            maker.requested.resize(n);
            maker.priority.resize(n);
            maker.shipped.resize(n);
        }
        const std::span<double> requested(maker.requested.data(), n), shipped(maker.shipped.data(), n);
        for (std::size_t k = 0; k < n; ++k) {
            ChipOrder& order = orders[k];
            order.shipping = 0;
            requested[k] = order.units_left;
            if (!order.priority) continue;
            order.shipping = std::min(order.units_left, output);
            output -= order.shipping;
            requested[k] = 0;
        }
        // Allocation weights: only the strategic rule reads them.
        std::span<const double> priority;
        if (role.allocation == Allocation::strategic) {
            const double weight = w.param(role.strategic_weight);
            for (std::size_t k = 0; k < n; ++k)
                maker.priority[k] = 1.0 + weight * stake_between(w, orders[k].buyer, maker.firm);
            priority = std::span<const double>(maker.priority.data(), n);
        }
        allocate_output(role.allocation, output, requested, priority, shipped);
        for (std::size_t k = 0; k < n; ++k) orders[k].shipping += shipped[k];
    }
}

void StandardModel::chipmakers_reprice(World& w) const {
    // Cournot chipmakers move together (one round of damped best responses).
    std::vector<double>& previous = w.cournot_scratch;
    previous.clear();
    for (const ChipmakerState& maker : w.chipmakers)
        if (w.sc().firms[maker.firm].chipmaker->pricing == ChipPricing::cournot) previous.push_back(maker.cournot_output);
    const std::size_t n = previous.size();
    if (n > 0) {
        previous.resize(4 * n);
        std::span<double> prev(previous.data(), n), cost(previous.data() + n, n), cap(previous.data() + 2 * n, n),
            next(previous.data() + 3 * n, n);
        double a = 0, b = 1;
        std::size_t i = 0;
        for (const ChipmakerState& maker : w.chipmakers) {
            const ChipmakerRole& role = *w.sc().firms[maker.firm].chipmaker;
            if (role.pricing != ChipPricing::cournot) continue;
            a = w.param(role.cournot_demand_intercept);
            b = w.param(role.cournot_demand_slope);
            double capacity = 0, unit_cost = 0;
            for (const auto& [c, path] : role.capacity_per_month) {
                capacity += w.chips[c].production_cap / w.sc().months_per_step;
                if (w.chips[c].production_cap > 0) unit_cost = w.param(w.sc().chips[c].unit_cost);
            }
            cost[i] = unit_cost;
            cap[i] = capacity;
            ++i;
        }
        cournot_round(prev, cost, a, b, cap, next);
        double total = 0;
        for (double q : next) total += q;
        i = 0;
        for (ChipmakerState& maker : w.chipmakers) {
            const ChipmakerRole& role = *w.sc().firms[maker.firm].chipmaker;
            if (role.pricing != ChipPricing::cournot) continue;
            maker.cournot_output = next[i++];
            for (const auto& [c, path] : role.capacity_per_month)
                w.chips[c].price = std::max(w.param(role.cournot_demand_intercept) -
                                                w.param(role.cournot_demand_slope) * total,
                                            0.0);
        }
    }
    for (const ChipmakerState& maker : w.chipmakers) {
        const ChipmakerRole& role = *w.sc().firms[maker.firm].chipmaker;
        if (role.pricing == ChipPricing::backlog) reprice_by_backlog(w, role);
    }
}

}  // namespace entangle::agents
