// Cloud behaviour (MODEL.md 5.2): scarcity-priced spot asks and expansion.
#include <algorithm>
#include <cmath>
#include <limits>

#include "agents/standard_model.hpp"
#include "engine/contracts.hpp"
#include "engine/market/economics.hpp"
#include "engine/simulation.hpp"

namespace entangle::agents {
namespace {

// Capacity the cloud must or expects to supply `months` ahead.
double forecast_demand(const World& w, CloudState& cloud, int months) {
    const Scenario& sc = w.sc();
    const CloudRole& role = *sc.firms[cloud.firm].cloud;
    const double years = months / 12.0;
    double demand = 0;
    const double demand_growth = role.demand_growth.power_at(w.step, w.drawn, 1.0, years, cloud.demand_growth_pow);
    if (role.sells_capacity) demand += cloud.spot_ewma * demand_growth;
    const Month ahead = w.month() + months;
    demand += capacity_under_contract(w, cloud.firm, ahead, ContractSide::sold);
    const RoleIndex own_lab = w.firms[cloud.firm].lab;
    if (own_lab != no_role) {
        const LabState& lab = w.labs[own_lab];
        const LabRole& lab_role = *sc.firms[cloud.firm].lab;
        demand += lab.need_training * lab_role.training_growth.power_at(w.step, w.drawn, 0.0, years, cloud.lab_growth_pow) +
                  lab.need_inference * demand_growth;
    }
    return demand;
}

// One pass over the cloud's fleet for both: effective H100e installed, delivered or on order,
// less what retires before the horizon; and the MW of powered or planned space not yet
// claimed by installed or coming units.
struct Pipeline {
    double capacity = 0;
    double spare_mw = 0;
};

Pipeline pipeline(const World& w, CloudState& cloud, int horizon_steps) {
    const std::size_t stride = static_cast<std::size_t>(w.steps + 1);
    Pipeline pipe;
    for (const Site& site : cloud.sites) pipe.spare_mw += site.online_mw + site.building_mw - site.used_mw;
    const int last = std::min(w.step + horizon_steps, w.steps);
    if (cloud.retire_scan_from.empty()) cloud.retire_scan_from.assign(cloud.installed.size(), 0);
    for (ChipId c : cloud.held_families) {
        const double coming = cloud.stranded[c] + cloud.on_order[c];
        pipe.spare_mw -= coming * w.chips[c].power_kw / 1000.0;
        const double installed = cloud.installed[c];
        if (installed <= 0 && coming <= 0) continue;
        double retiring = 0;
        if (installed > 0) {  // with none installed none is left whatever retires: skip the window
            const double* schedule = cloud.retire_schedule.data() + c * stride;
            // Leading zeros add nothing: start the window's sum at its first retirement.
            int from = std::max(cloud.retire_scan_from[c], w.step + 1);
            while (from <= last && schedule[from] == 0) ++from;
            cloud.retire_scan_from[c] = from;
            for (int s = from; s <= last; ++s) retiring += schedule[s];
        }
        pipe.capacity += (std::max(installed - retiring, 0.0) + coming) * w.chips[c].effective_h100e;
    }
    return pipe;
}

struct Choice {
    ChipId chip = 0;
    double cost = std::numeric_limits<double>::infinity();
};

// The family with the lowest levelised cost among those it may buy that ship within the horizon.
Choice cheapest_family(const World& w, const CloudState& cloud, int horizon_months) {
    const Scenario& sc = w.sc();
    Choice best;
    for (ChipId c : cloud.families) {
        const ChipSpec& chip = sc.chips[c];
        const ChipState& state = w.chips[c];
        if (!may_buy(w, cloud.firm, c) || state.production_cap <= 0) continue;
        // Inference-only parts are bought by their own vendor's cloud only.
        if (chip.workload == Workload::inference && chip.vendor != cloud.firm) continue;
        const double months_of_backlog = state.backlog / (state.production_cap / sc.months_per_step);
        if (months_of_backlog > horizon_months) continue;
        // Priced in the supply phase, before this step's repricing: the price it would order at.
        const double cost = cloud.levelised[c].full;
        if (cost < best.cost) best = Choice{c, cost};
    }
    return best;
}

// The first preferred site whose region can still power `mw`, else the one with most room.
std::uint16_t choose_site(const World& w, const CloudState& cloud, double mw) {
    std::uint16_t best = 0;
    double best_room = -std::numeric_limits<double>::infinity();
    for (std::uint16_t i = 0; i < cloud.sites.size(); ++i) {
        const RegionId r = cloud.sites[i].region;
        const RegionState& region = w.regions[r];
        const double room = w.param(w.sc().regions[r].max_mw) - region.allocated_mw - region.queued_mw;
        if (room >= mw) return i;
        if (room > best_room) best_room = room, best = i;
    }
    return best;
}

}  // namespace

void StandardModel::cloud_asks(const World& w, RoleIndex c, std::span<const double> utilisations,
                               std::span<double> asks) const {
    const CloudState& cloud = w.clouds[c];
    const CloudRole& role = *w.sc().firms[cloud.firm].cloud;
    const LevelisedCost cost{cloud.levelised_full, cloud.levelised_variable};
    const double target = w.param(role.target_utilisation), eta = w.param(role.eta);
    for (std::size_t k = 0; k < utilisations.size(); ++k) asks[k] = spot_ask(cost, utilisations[k], target, eta);
}

void StandardModel::cloud_invest(World& w, RoleIndex c) const {
    CloudState& cloud = w.clouds[c];
    const CloudRole& role = *w.sc().firms[cloud.firm].cloud;
    const int horizon = role.forecast_horizon_months;
    const int horizon_steps = (horizon + w.sc().months_per_step - 1) / w.sc().months_per_step;
    const double wanted = forecast_demand(w, cloud, horizon) / w.param(role.target_utilisation);
    const Pipeline pipe = pipeline(w, cloud, horizon_steps);
    const double gap = wanted - pipe.capacity;
    if (gap <= 0) return;
    const Choice choice = cheapest_family(w, cloud, horizon);
    if (!std::isfinite(choice.cost)) return;

    const ChipState& family = w.chips[choice.chip];
    const double price = chip_price_for(w, cloud.firm, choice.chip);
    const double mw_per_unit = family.power_kw / 1000.0;
    const double capex_per_mw = w.param(role.dc_capex_per_mw);
    const double spare_mw = std::max(pipe.spare_mw, 0.0);
    double units = gap / family.effective_h100e;
    const auto cost_of = [&](double u) { return u * price + std::max(u * mw_per_unit - spare_mw, 0.0) * capex_per_mw; };
    const double limit = std::max(std::min(w.param(role.capex_budget) * w.years_per_step(),
                                           w.account(cloud.firm).cash + borrowing_headroom(w, cloud.firm)),
                                  0.0);
    if (cost_of(units) > limit) {
        // Largest order the budget covers: chips alone up to the spare power, then chips plus buildings.
        // Free chips (a price decayed to a zero floor) fill the spare power whatever the budget.
        const double within_spare = spare_mw / mw_per_unit;
        units = price > 0 && within_spare * price >= limit
                    ? limit / price
                    : within_spare + (limit - within_spare * price) / (price + mw_per_unit * capex_per_mw);
    }
    if (units <= 0) return;
    place_chip_order(w, c, choice.chip, units, price, false);  // at the vendor's price, read above
    const double mw = std::max(units * mw_per_unit - spare_mw, 0.0);
    if (mw > 0) start_construction(w, c, choose_site(w, cloud, mw), mw);
}

}  // namespace entangle::agents
