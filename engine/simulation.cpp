#include "engine/simulation.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <functional>
#include <cmath>
#include <sstream>

#include "engine/contracts.hpp"
#include "engine/errors.hpp"
#include "engine/events.hpp"
#include "engine/procurement.hpp"
#include "engine/market/economics.hpp"
#include "engine/market/end_market.hpp"

namespace entangle {
namespace {

constexpr double tolerance = 1e-7;
constexpr int supply_tranches = 8;  // steps of each cloud's spot supply curve
constexpr int demand_grid = 10;     // steps of each lab's budget-constrained demand curve
// Price steps of the demand curve below its top value: 0.75^k.
constexpr std::array<double, demand_grid> demand_grid_steps = [] {
    std::array<double, demand_grid> steps{};
    double x = 1.0;
    for (double& s : steps) s = x, x *= 0.75;
    return steps;
}();

double sum_cash(const World& w) {
    double total = 0;
    for (const FirmState& f : w.firms) total += f.cash;
    return total;
}

// Firm cash comes in and goes out of the system of firms only through these.
void receive_external(World& w, FirmId firm, double usd, double ExternalFlows::*account) {
    w.account(firm).cash += usd;
    w.external.*account += usd;
}
void pay_external(World& w, FirmId firm, double usd, double ExternalFlows::*account) {
    w.account(firm).cash -= usd;
    w.external.*account += usd;
}

int months_to_steps(const World& w, int months) {
    const int mps = w.sc().months_per_step;
    return (months + mps - 1) / mps;
}

// ---------------------------------------------------------------- set-up

// The cloud's own inputs to its levelised costs at this step (its region's power price and its
// rates) into `priced_with`, with the recovery factors at its cost of capital: true if any changed.
bool read_cost_inputs(World& w, CloudState& cloud) {
    const Scenario& sc = w.sc();
    const CloudRole& role = *sc.firms[cloud.firm].cloud;
    LevelisedCostInputs in;
    in.power_usd_per_mwh = w.power_price[cloud.sites.front().region];
    in.wacc = w.param(role.wacc);
    in.dc_capex_per_mw = w.param(role.dc_capex_per_mw);
    in.dc_life_months = role.dc_life_months;
    in.om_rate = w.param(role.om_rate);
    in.target_utilisation = w.param(role.target_utilisation);
    bool changed = in.power_usd_per_mwh != cloud.priced_with.power_usd_per_mwh ||
                   in.dc_capex_per_mw != cloud.priced_with.dc_capex_per_mw || in.om_rate != cloud.priced_with.om_rate ||
                   in.target_utilisation != cloud.priced_with.target_utilisation;
    cloud.priced_with = in;
    const double r = cloud.wacc_pow(1.0 + in.wacc, 1.0 / 12.0) - 1.0;  // monthly_rate(in.wacc)
    if (r != cloud.recovery_rate) {  // recovery factors change only with the cost of capital
        changed = true;
        cloud.recovery_rate = r;
        cloud.dc_recovery = capital_recovery_factor(r, in.dc_life_months);
        // Families mostly share a depreciation life: compute each life's factor (a pow) once.
        int life = 0;
        double recovery = 0;
        for (ChipId c = 0; c < sc.chips.size(); ++c) {
            if (c == 0 || sc.chips[c].lifetime_months != life) {
                life = sc.chips[c].lifetime_months;
                recovery = capital_recovery_factor(r, life);
            }
            cloud.chip_recovery[c] = recovery;
        }
    }
    return changed;
}

// Every family's terms of its levelised cost that no chip price enters, at `priced_with` and the
// families' parameters (all chips, a few, at set-up and when an input moves); the costs
// themselves are to be computed again.
void price_terms(World& w, CloudState& cloud) {
    LevelisedCostInputs in = cloud.priced_with;
    for (ChipId c = 0; c < w.chips.size(); ++c) {
        const ChipState& family = w.chips[c];
        in.power_kw = family.power_kw;
        in.h100e = family.h100e;
        in.software_factor = family.software_factor;
        cloud.levelised_basis[c] = {levelised_cost_terms(in, cloud.dc_recovery), NAN};
    }
}

// Units of family `c` that reach their end of life at `step` (none within the run if later).
void schedule_retirement(const World& w, CloudState& cloud, ChipId c, int step, double units) {
    if (step > w.steps) return;
    cloud.retire_schedule[c * static_cast<std::size_t>(w.steps + 1) + step] += units;
    ++cloud.retirements_due[step];
}

void init_cloud(World& w, RoleIndex index, FirmId firm, const CloudRole& role) {
    const Scenario& sc = w.sc();
    const std::size_t n_chips = sc.chips.size();
    CloudState& cloud = w.clouds[index];
    cloud.firm = firm;
    cloud.installed.assign(n_chips, 0);
    cloud.stranded.assign(n_chips, 0);
    cloud.stranded_value.assign(n_chips, 0);
    cloud.on_order.assign(n_chips, 0);
    cloud.levelised.assign(n_chips, LevelisedCost{INFINITY, INFINITY});
    cloud.levelised_basis.assign(n_chips, CloudState::LevelisedBasis{});
    cloud.chip_recovery.assign(n_chips, 0);
    cloud.retire_schedule.assign(n_chips * static_cast<std::size_t>(w.steps + 1), 0);
    cloud.depreciation_end.assign(static_cast<std::size_t>(w.steps + 1), 0);
    cloud.retirements_due.assign(static_cast<std::size_t>(w.steps + 1), 0);
    for (RegionId r : role.regions) cloud.sites.push_back(Site{r, 0, 0, 0, std::vector<double>(n_chips, 0)});
    const auto site_of = [&](RegionId r) -> Site& {
        for (Site& s : cloud.sites)
            if (s.region == r) return s;
        cloud.sites.push_back(Site{r, 0, 0, 0, std::vector<double>(n_chips, 0)});
        return cloud.sites.back();
    };
    for (const RegionPower& p : role.power_online) {
        const double mw = w.param(p.mw);
        site_of(p.region).online_mw += mw;
        w.regions[p.region].allocated_mw += mw;
    }
    for (const FleetHolding& h : role.fleet) {
        const ChipSpec& chip = sc.chips[h.chip];
        const double units = w.param(h.units);
        Site& site = site_of(h.region);
        site.installed[h.chip] += units;
        site.used_mw += units * w.param(chip.power_kw) / 1000.0;
        cloud.installed[h.chip] += units;
        // Initial units were bought at list price and retire at end of life.
        const int months_left = std::max(chip.lifetime_months - h.age_months, 1);
        const int retire_step = months_to_steps(w, months_left);
        schedule_retirement(w, cloud, h.chip, retire_step, units);
        const double value = units * w.list_price[h.chip];
        const double per_month = value / chip.lifetime_months;
        cloud.book_value += per_month * months_left;
        cloud.monthly_depreciation += per_month;
        if (retire_step <= w.steps) cloud.depreciation_end[retire_step] += per_month;
    }
    w.firms[firm].cash += w.param(role.cash);
    const auto moves = [](const Param& p) { return p.kind() != Param::Kind::constant; };
    cloud.cost_inputs_move = moves(sc.regions[cloud.sites.front().region].power_usd_per_mwh) || moves(role.wacc) ||
                             moves(role.dc_capex_per_mw) || moves(role.om_rate) || moves(role.target_utilisation);
    read_cost_inputs(w, cloud);
    price_terms(w, cloud);
}

void init_lab(World& w, RoleIndex index, FirmId firm, const LabRole& role) {
    LabState& lab = w.labs[index];
    lab.firm = firm;
    lab.capability = w.param(role.capability0);
    const int window_steps = months_to_steps(w, w.sc().market.capability_window_months);
    lab.flop_window.assign(static_cast<std::size_t>(std::max(window_steps, 1)), 0);
    lab.investor_budget_left.clear();
    for (const StrategicInvestor& investor : role.investors) lab.investor_budget_left.push_back(investor.budget_usd);
    w.firms[firm].cash += w.param(role.cash);
}

// Shares at the start seed the first inference need.
void init_end_market(World& w) {
    const Scenario& sc = w.sc();
    w.end_market_usd = w.param(sc.market.end_market_usd);
    w.frontier = 0;
    for (const LabState& lab : w.labs) w.frontier = std::max(w.frontier, lab.capability);
    w.frontier0 = w.frontier;
    std::vector<double> utility(w.labs.size()), shares(w.labs.size());
    const double alpha = w.param(sc.market.logit_alpha);
    for (std::size_t i = 0; i < w.labs.size(); ++i) {
        const LabRole& role = *sc.firms[w.labs[i].firm].lab;
        utility[i] = alpha * w.labs[i].capability + w.param(role.brand) + w.param(role.distribution);
    }
    if (!w.labs.empty()) logit_shares(utility, shares);
    for (std::size_t i = 0; i < w.labs.size(); ++i) {
        w.labs[i].share = shares[i];
        w.labs[i].revenue_potential = shares[i] * w.end_market_usd * w.years_per_step();
    }
}

// ---------------------------------------------------------------- phases

void reset_step_flows(World& w) {
    w.external = ExternalFlows{};
    std::fill(w.flow.begin(), w.flow.end(), 0.0);
    for (FirmState& f : w.firms) f.revenue = f.capex = 0;
    for (LabState& lab : w.labs) {
        lab.held = lab.held_inference_only = lab.compute_spend = 0;
        lab.compute_training = lab.compute_inference = 0;
    }
    for (CloudState& cloud : w.clouds)
        cloud.obligations = cloud.internal_use = cloud.internal_general = cloud.internal_inference = cloud.spot_sold = 0;
    for (ChipState& chip : w.chips) chip.shipped = 0;
}

// A parameter of every region or chip at this step, for loops that read it per site or per
// family (`values`, from two short arrays rather than a parameter in each spec): set at set-up;
// `moves` lists the items whose parameter is no constant, the only ones read again each month.
template <class Spec, class Id>
void init_param_values(const World& w, const std::vector<Spec>& specs, Param Spec::*param,
                       std::vector<double>& values, std::vector<Id>& moves) {
    values.assign(specs.size(), 0);
    moves.clear();
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const Param& p = specs[i].*param;
        values[i] = w.param(p);
        if (p.kind() != Param::Kind::constant) moves.push_back(static_cast<Id>(i));
    }
}

template <class Spec, class Id>
void update_param_values(const World& w, const std::vector<Spec>& specs, Param Spec::*param,
                         std::vector<double>& values, const std::vector<Id>& moves) {
    for (Id i : moves) values[i] = w.param(specs[i].*param);
}

// This step's grid power and list prices, read as the world phase starts for the rest of the
// step: the clouds' levelised costs, the vendors' price ceilings, the finance phase's sums over
// every site and every family.
void read_prices(World& w) {
    update_param_values(w, w.sc().regions, &RegionSpec::power_usd_per_mwh, w.power_price, w.power_price_moves);
    update_param_values(w, w.sc().chips, &ChipSpec::list_price, w.list_price, w.list_price_moves);
}

void init_prices(World& w) {
    init_param_values(w, w.sc().regions, &RegionSpec::power_usd_per_mwh, w.power_price, w.power_price_moves);
    init_param_values(w, w.sc().chips, &ChipSpec::list_price, w.list_price, w.list_price_moves);
}

void grow_region_power(World& w) {
    if (w.step == 0) return;
    for (std::size_t r = 0; r < w.regions.size(); ++r) {
        const RegionSpec& spec = w.sc().regions[r];
        RegionState& region = w.regions[r];
        const double grown = region.available_mw + w.param(spec.interconnect_mw_per_month) * w.sc().months_per_step;
        region.available_mw = std::max(region.available_mw, std::min(grown, w.param(spec.max_mw)));
    }
}

// Finished construction waits in its region's queue, first come first served,
// for grid power; the head project may be energised in part.
void commission_construction(World& w) {
    for (RegionState& region : w.regions) {
        while (region.queue_head < region.queue.size()) {
            ConstructionProject& project = region.queue[region.queue_head];
            if (project.ready_step > w.step) break;
            const double grant = std::min(project.mw_left, std::max(region.available_mw - region.allocated_mw, 0.0));
            if (grant <= 0) break;
            Site& site = w.clouds[project.cloud].sites[project.site];
            site.online_mw += grant;
            site.building_mw -= grant;
            region.allocated_mw += grant;
            region.queued_mw = std::max(region.queued_mw - grant, 0.0);
            project.mw_left -= grant;
            if (project.mw_left > tolerance) break;
            ++region.queue_head;
        }
    }
}

void retire_and_depreciate(World& w) {
    const std::size_t stride = static_cast<std::size_t>(w.steps + 1);
    for (CloudState& cloud : w.clouds) {
        // Most months nothing of the cloud reaches its end of life: no family has units retiring.
        if (cloud.retirements_due[w.step] != 0) {
            for (ChipId c : cloud.held_families) {
                const double retiring = std::min(cloud.retire_schedule[c * stride + w.step], cloud.installed[c]);
                if (retiring <= 0) continue;
                const double power_kw = w.param(w.sc().chips[c].power_kw);
                const double fraction = retiring / cloud.installed[c];
                for (Site& site : cloud.sites) {
                    const double units = site.installed[c] * fraction;
                    site.installed[c] -= units;
                    site.used_mw = std::max(site.used_mw - units * power_kw / 1000.0, 0.0);
                }
                cloud.installed[c] -= retiring;
            }
        }
        cloud.monthly_depreciation = std::max(cloud.monthly_depreciation - cloud.depreciation_end[w.step], 0.0);
        if (w.step > 0)
            cloud.book_value = std::max(cloud.book_value - cloud.monthly_depreciation * w.sc().months_per_step, 0.0);
    }
}

void update_end_market(World& w) {
    const MarketSpec& m = w.sc().market;
    if (w.step > 0) {
        w.growth_index *= m.end_market_growth.power_at(w.step, w.drawn, 1.0, w.years_per_step(), w.end_market_growth_pow);
        w.demand_walk += std::sqrt(w.years_per_step()) * draw_standard_normal(w.market_stream);
    }
    w.end_market_usd = w.param(m.end_market_usd) * w.growth_index *
                       std::exp(w.param(m.end_market_volatility) * w.demand_walk) *
                       std::max(1.0 + w.param(m.capability_elasticity) * (w.frontier - w.frontier0), 0.0);
}

// 1. World: demand shock, region power, construction, retirements.
void phase_world(World& w) {
    reset_step_flows(w);
    apply_events(w);
    update_end_market(w);
    read_prices(w);
    grow_region_power(w);
    commission_construction(w);
    retire_and_depreciate(w);
}

void ship_orders(World& w, ChipState& family, FirmId vendor) {
    // Most months no order is done: the book is then left as it is, not scanned again.
    bool any_done = false;
    for (ChipOrder& order : family.orders) {
        if (order.shipping <= 0) {
            any_done |= order.units_left <= tolerance;  // placed below tolerance
            continue;
        }
        const double units = std::min(order.shipping, order.units_left);
        const ChipSpec& chip = w.sc().chips[order.chip];
        const double value = units * order.unit_price;
        transfer(w, order.buyer, vendor, value);
        pay_external(w, vendor, units * w.param(chip.unit_cost), &ExternalFlows::chip_production);
        if (order.buyer != vendor) w.firms[vendor].revenue += value;
        w.firms[order.buyer].capex += value;
        CloudState& cloud = w.clouds[order.cloud];
        cloud.stranded[order.chip] += units;
        cloud.stranded_value[order.chip] += value;
        cloud.on_order[order.chip] = std::max(cloud.on_order[order.chip] - units, 0.0);
        w.chips[order.chip].shipped += units;
        w.chips[order.chip].backlog = std::max(w.chips[order.chip].backlog - units, 0.0);
        order.units_left -= units;
        order.shipping = 0;
        any_done |= order.units_left <= tolerance;
    }
    if (any_done) std::erase_if(family.orders, [](const ChipOrder& o) { return o.units_left <= tolerance; });
}

// Delivered units of family `c` go into free powered space, the cloud's preferred sites first.
void install_family(World& w, CloudState& cloud, ChipId c) {
    const ChipSpec& chip = w.sc().chips[c];
    const double kw = w.chips[c].power_kw;
    for (Site& site : cloud.sites) {
        const double free_mw = site.online_mw - site.used_mw;
        if (free_mw <= tolerance || cloud.stranded[c] <= 0) continue;
        const double units = std::min(cloud.stranded[c], free_mw * 1000.0 / kw);
        const double value = cloud.stranded_value[c] * units / cloud.stranded[c];
        site.installed[c] += units;
        site.used_mw += units * kw / 1000.0;
        cloud.installed[c] += units;
        cloud.stranded[c] -= units;
        cloud.stranded_value[c] -= value;
        const int retire_step = w.step + months_to_steps(w, chip.lifetime_months);
        schedule_retirement(w, cloud, c, retire_step, units);
        if (!cloud.retire_scan_from.empty())
            cloud.retire_scan_from[c] = std::min(cloud.retire_scan_from[c], retire_step);
        const double per_month = value / chip.lifetime_months;
        cloud.book_value += value;
        cloud.monthly_depreciation += per_month;
        if (retire_step <= w.steps) cloud.depreciation_end[retire_step] += per_month;
    }
}

void install_delivered(World& w, CloudState& cloud) {
    // Installing only takes free power: with none at the start (deliveries waiting for
    // datacenters) no family gets any, and only the remnants below are cleared.
    const bool any_free_power = std::ranges::any_of(
        cloud.sites, [](const Site& site) { return site.online_mw - site.used_mw > tolerance; });
    for (ChipId c : cloud.held_families) {
        if (cloud.stranded[c] <= 0) continue;
        if (any_free_power) install_family(w, cloud, c);
        if (cloud.stranded[c] < tolerance) cloud.stranded[c] = cloud.stranded_value[c] = 0;
    }
}

// This step's values of family `c`'s parameters in its ChipState; true if any changed.
bool read_family_parameters(World& w, ChipId c) {
    ChipState& family = w.chips[c];
    const ChipSpec& spec = w.sc().chips[c];
    const double power_kw = w.param(spec.power_kw);
    const double h100e = w.param(spec.h100e);
    const double software_factor = w.param(spec.software_factor);
    const bool changed =
        power_kw != family.power_kw || h100e != family.h100e || software_factor != family.software_factor;
    family.power_kw = power_kw;
    family.h100e = h100e;
    family.software_factor = software_factor;
    family.effective_h100e = h100e * software_factor;  // World::effective_h100e, from the values just read
    return changed;
}

// Levelised cost of every family the cloud holds or may buy and that ships,
// at today's prices, once per step (both the spot ask and expansion use it).
// `families_changed`: some family's parameters differ from last step's.
void price_families(World& w, CloudState& cloud, bool families_changed) {
    // Inputs that are all constants were read at set-up.
    bool inputs_changed = families_changed;
    if (cloud.cost_inputs_move) inputs_changed |= read_cost_inputs(w, cloud);
    if (inputs_changed) price_terms(w, cloud);
    const double om_rate = cloud.priced_with.om_rate;
    for (ChipId c : cloud.families) {
        // Families not held are priced only while they ship: expansion and chip quotes read no other.
        if (cloud.installed[c] <= 0 && (!may_buy(w, cloud.firm, c) || w.chips[c].production_cap <= 0)) continue;
        // The same inputs give the same cost. (Prices of +0 and -0 count as the same: their
        // costs could differ only in a zero's sign, were the power and datacentre terms -0 too.)
        const double price = chip_price_for(w, cloud.firm, c);
        CloudState::LevelisedBasis& basis = cloud.levelised_basis[c];
        if (price == basis.at_price) continue;
        basis.at_price = price;
        cloud.levelised[c] = levelised_cost(basis.terms, price, om_rate, cloud.chip_recovery[c]);
    }
}

// Capacity this step and the fleet's levelised cost at today's chip prices.
void measure_capacity(World& w, CloudState& cloud, bool families_changed) {
    double general = 0, inference = 0;  // summed in locals: the cloud's fields could alias its arrays
    double weighted_full = 0, weighted_variable = 0;
    price_families(w, cloud, families_changed);
    for (ChipId c : cloud.held_families) {
        if (cloud.installed[c] <= 0) continue;
        const ChipState& family = w.chips[c];
        const double capacity = cloud.installed[c] * family.effective_h100e;
        (family.inference_only ? inference : general) += capacity;
        const LevelisedCost& cost = cloud.levelised[c];
        weighted_full += capacity * cost.full;
        weighted_variable += capacity * cost.variable;
    }
    cloud.capacity_general = general;
    cloud.capacity_inference = inference;
    const double total = general + inference;
    if (total > 0) {
        cloud.levelised_full = weighted_full / total;
        cloud.levelised_variable = weighted_variable / total;
    }
}

// 2. Supply: chipmakers produce and ship; clouds install into free power.
void phase_supply(World& w, const AgentModel& agents) {
    bool families_changed = false;  // any parameter a levelised cost reads
    for (ChipId c : w.family_parameter_moves) families_changed |= read_family_parameters(w, c);
    for (ChipState& family : w.chips) family.production_cap = 0;
    for (RoleIndex m = 0; m < w.chipmakers.size(); ++m) {
        const ChipmakerRole& role = *w.sc().firms[w.chipmakers[m].firm].chipmaker;
        for (const auto& [chip, capacity] : role.capacity_per_month)
            if (w.sc().chips[chip].release <= w.month())
                w.chips[chip].production_cap = w.param(capacity) * w.sc().months_per_step;
        agents.chipmaker_supply(w, m);
        for (const auto& [chip, capacity] : role.capacity_per_month) ship_orders(w, w.chips[chip], w.chipmakers[m].firm);
    }
    for (CloudState& cloud : w.clouds) {
        install_delivered(w, cloud);
        measure_capacity(w, cloud, families_changed);
    }
}

// 3. Contracts: the book activates, delivers, pays and expires (engine/contracts.cpp).
void phase_contracts(World& w) { run_contracts(w); }

// 4. Procurement: labs plan; a firm's own cloud serves its lab first (internal
// trade at cost: no contract, no payment, but recorded in the flow matrix).
void phase_procurement(World& w, const AgentModel& agents) {
    for (RoleIndex l = 0; l < w.labs.size(); ++l) {
        agents.lab_plan(w, l);
        procure_capacity(w, l);
        LabState& lab = w.labs[l];
        const RoleIndex own = w.firms[lab.firm].cloud;
        if (own == no_role) continue;
        CloudState& cloud = w.clouds[own];
        const double need = lab.need_training + lab.need_inference;
        const double wanted = std::max(need - lab.held, 0.0);
        const double general = std::min(wanted, std::max(cloud.capacity_general - cloud.obligations, 0.0));
        const double inference_only =
            std::min(std::max(lab.need_inference - general, 0.0), cloud.capacity_inference);
        const double used = general + inference_only;
        cloud.internal_general += general;
        cloud.internal_inference += inference_only;
        cloud.internal_use += used;
        lab.held += used;
        lab.held_inference_only += inference_only;
        w.flow_at(lab.firm, lab.firm) += used;
    }
}

// Pairs each seller's sales with each buyer's purchases: pro rata (a uniform
// price makes the pairing immaterial to anyone's payoff), or, when `forbid`
// events bar some pairs, the pro-rata pairing restricted to allowed pairs by
// iterative proportional fitting. Volume no allowed pair can carry does not
// trade (the seller keeps it, the buyer's need stays unmet).
// pairing[i * buyers + j] gets H100e from sellers[i] to buyers[j].
void pair_spot_trades(World& w, std::span<const SpotTrader> sellers, std::span<const SpotTrader> buyers, double volume,
                      std::vector<double>& pairing) {
    const std::size_t rows = sellers.size(), columns = buyers.size();
    pairing.assign(rows * columns, 0.0);
    bool barred = false;
    for (std::size_t i = 0; i < rows; ++i)
        for (std::size_t j = 0; j < columns; ++j) {
            if (w.forbidden_pair(w.clouds[sellers[i].role].firm, w.labs[buyers[j].role].firm)) {
                barred = true;
                continue;
            }
            pairing[i * columns + j] = sellers[i].quantity * buyers[j].quantity / volume;
        }
    if (!barred) return;
    // Scales each row (or column) of the pairing to its seller's (buyer's) total:
    // line i holds the cells i * line_stride + k * cell_stride, k < cells.
    const auto scale_lines = [&](std::span<const SpotTrader> totals, std::size_t line_stride, std::size_t cell_stride,
                                 std::size_t cells, bool only_down) {
        for (std::size_t i = 0; i < totals.size(); ++i) {
            const double total = totals[i].quantity;
            double sum = 0;
            for (std::size_t k = 0; k < cells; ++k) sum += pairing[i * line_stride + k * cell_stride];
            if (sum <= 0 || (only_down && sum <= total)) continue;
            for (std::size_t k = 0; k < cells; ++k) pairing[i * line_stride + k * cell_stride] *= total / sum;
        }
    };
    const auto scale_rows = [&](bool only_down) { scale_lines(sellers, columns, 1, columns, only_down); };
    const auto scale_columns = [&](bool only_down) { scale_lines(buyers, 1, columns, rows, only_down); };
    for (int round = 0; round < 50; ++round) {
        scale_rows(false);
        scale_columns(false);
    }
    // Never more than either side traded in the auction.
    scale_rows(true);
    scale_columns(true);
}

// One pair's spot trade: `quantity` H100e from cloud to lab for `payment`
// (`contracts` is w.indexed_contracts(), looked up once per clearing).
void settle_spot_pair(World& w, const World::ContractIndex& contracts, CloudState& cloud, LabState& lab,
                      double quantity, double payment) {
    w.flow_at(cloud.firm, lab.firm) += quantity;
    pay_for_compute(w, contracts, lab.firm, cloud.firm, payment);
    if (lab.firm != cloud.firm) w.firms[cloud.firm].revenue += payment;
    lab.compute_spend += payment;
    cloud.spot_sold += quantity;
    lab.held += quantity;
}

// Each trader's total filled over its orders, for the traders with a positive
// total, into `traders`; returns how many. The orders list each trader's
// together, traders ascending (as clear_spot_market adds them), so the totals
// come out ascending and each sums its orders in their order.
std::size_t total_by_trader(std::span<const Order> orders, std::vector<SpotTrader>& traders) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < orders.size();) {
        const std::uint32_t owner = orders[i].owner;
        double total = 0;
        for (; i < orders.size() && orders[i].owner == owner; ++i) total += orders[i].filled;
        if (total > 0) traders[count++] = {static_cast<RoleIndex>(owner), total};
    }
    return count;
}

// Settles the auction's trades given what each seller sold (ascending);
// returns the volume that changed hands.
double settle_spot(World& w, std::span<const SpotTrader> sellers, std::span<const Order> bids, double price, double volume,
                   bool inference_only) {
    if (volume <= 0) return 0;
    // Totals per buyer first: the steps of one lab's demand curve trade as one.
    const std::span<const SpotTrader> buyers(w.buyers_scratch.data(), total_by_trader(bids, w.buyers_scratch));
    double traded = 0;
    // Looked up once per clearing, not per pair.
    const double hours = w.hours_per_step();
    const World::ContractIndex& contracts = w.indexed_contracts();
    const auto trade = [&](CloudState& cloud, RoleIndex l, double quantity) {
        LabState& lab = w.labs[l];
        settle_spot_pair(w, contracts, cloud, lab, quantity, quantity * price * hours);
        if (inference_only) lab.held_inference_only += quantity;
        traded += quantity;
    };
    if (w.any_forbidden) {
        pair_spot_trades(w, sellers, buyers, volume, w.pairing_scratch);
        for (std::size_t i = 0; i < sellers.size(); ++i)
            for (std::size_t j = 0; j < buyers.size(); ++j) {
                const double quantity = w.pairing_scratch[i * buyers.size() + j];
                if (quantity > 0) trade(w.clouds[sellers[i].role], buyers[j].role, quantity);
            }
        return traded;
    }
    for (const SpotTrader& seller : sellers) {
        CloudState& cloud = w.clouds[seller.role];
        for (const SpotTrader& buyer : buyers) trade(cloud, buyer.role, seller.quantity * buyer.quantity / volume);
    }
    return traded;
}

// The orders of one clearing, written into a list sized once per replication
// (init_world), so that adding one is a store rather than a capacity check.
class OrderList {
  public:
    explicit OrderList(std::vector<Order>& storage) : orders_(storage.data()), capacity_(storage.size()) {}
    void add(RoleIndex owner, double quantity, double price) {
        assert(size_ < capacity_ && "init_world sizes the lists for every order a clearing can take");
        orders_[size_++] = Order{owner, quantity, price, 0};
    }
    std::span<Order> orders() const { return {orders_, size_}; }

  private:
    Order* orders_;
    [[maybe_unused]] std::size_t capacity_;
    std::size_t size_ = 0;
};

// A budget-constrained lab's demand: at price p it wants
// D(p) = min(need valued at p or more, budget / (p * hours)), bid as steps at
// its two values and on a geometric grid below the higher one (`hours` in the
// step). Steps priced below `price_floor` are left out.
void add_demand_curve(OrderList& bids, RoleIndex lab, double training, double training_value, double inference,
                      double inference_value, double budget, double hours, double price_floor) {
    if (training + inference <= tolerance || budget <= 0) return;
    const double top = std::max(training > tolerance ? training_value : 0.0, inference > tolerance ? inference_value : 0.0);
    if (top <= 0) return;
    // The values of the needs bid for, dearest first, merged on the way into the
    // grid (which descends already).
    std::array<double, 2> values{};
    std::size_t n_values = 0;
    if (training > tolerance) values[n_values++] = training_value;
    if (inference > tolerance) values[n_values++] = inference_value;
    if (n_values == 2 && values[1] > values[0]) std::swap(values[0], values[1]);
    double bid_so_far = 0, previous = NAN;
    // The quantity valued at the current price or more changes only where the
    // price falls below a need's value, and prices only descend: keep it, with
    // the highest value below the price it was computed at, and recompute it
    // only on crossing that value (once per band, not once per grid step).
    double valued = 0, valued_above = INFINITY;  // valid for prices > valued_above
    std::size_t g = 0;
    // Bids the step at price p; false once no lower price can add to the curve.
    const auto bid_at = [&](double p) {
        if (p < price_floor) return false;  // and so is every later (lower) price
        const bool repeated = p == previous;
        previous = p;
        if (p <= 0 || repeated) return true;
        if (!(p > valued_above)) {
            valued = (training_value >= p ? training : 0.0) + (inference_value >= p ? inference : 0.0);
            valued_above = p != p ? INFINITY  // a NaN price says nothing of the next one
                                  : std::max(training_value < p ? training_value : -INFINITY,
                                             inference_value < p ? inference_value : -INFINITY);
        }
        const double affordable = budget / (p * hours);
        const double wanted = std::min(valued, affordable);
        if (wanted > bid_so_far + tolerance) {
            bids.add(lab, wanted - bid_so_far, p);
            bid_so_far = wanted;
        }
        if (valued > affordable) return true;
        // The budget does not bind, so the quantity wanted stays the same at lower
        // prices until the next need's value: skip the grid steps above it.
        const double next_value = std::max(training > 0 && training_value < p ? training_value : 0.0,
                                           inference > 0 && inference_value < p ? inference_value : 0.0);
        if (next_value <= 0) return false;
        while (g < demand_grid && top * demand_grid_steps[g] > next_value) ++g;
        return true;
    };
    // Band by band: the grid steps above the next value (a grid step equal to it
    // comes after it, and repeats it), then the value itself.
    for (std::size_t v = 0;; ++v) {
        const double band_floor = v < n_values ? values[v] : -INFINITY;
        while (g < demand_grid && !(band_floor >= top * demand_grid_steps[g]))
            if (!bid_at(top * demand_grid_steps[g++])) return;
        if (v == n_values || !bid_at(values[v])) return;
    }
}

// What a cloud offers in one clearing: the residual of its general (or
// inference-only) capacity, in equal tranches, each asked at the utilisation
// it would bring the cloud to (its midpoint).
struct SpotOffer {
    double capacity = 0, committed = 0, residual = 0;  // residual 0: offers nothing
    double tranche_quantity() const { return residual / supply_tranches; }
    double tranche_utilisation(int k) const { return (committed + residual * (k + 0.5) / supply_tranches) / capacity; }
};

// A cloud's offer; `c` is one of World::spot_sellers.
SpotOffer spot_offer(const World& w, RoleIndex c, bool inference_only) {
    const CloudState& cloud = w.clouds[c];
    const double residual = inference_only ? cloud.capacity_inference - cloud.internal_inference
                                           : cloud.capacity_general - cloud.obligations - cloud.internal_general;
    if (residual <= tolerance) return {};
    const double capacity = inference_only ? cloud.capacity_inference : cloud.capacity_general;
    return {capacity, capacity - residual, residual};
}

// Every selling cloud's supply curve, tranche by tranche, clouds ascending.
void add_spot_asks(const World& w, const AgentModel& agents, OrderList& asks, bool inference_only) {
    for (const RoleIndex c : w.spot_sellers) {
        const SpotOffer offer = spot_offer(w, c, inference_only);
        if (offer.residual <= 0) continue;
        std::array<double, supply_tranches> utilisation, ask;
        for (int k = 0; k < supply_tranches; ++k) utilisation[k] = offer.tranche_utilisation(k);
        agents.cloud_asks(w, c, utilisation, ask);
        for (int k = 0; k < supply_tranches; ++k) asks.add(c, offer.tranche_quantity(), ask[k]);
    }
}

// Every lab's demand curve, labs ascending, down to `price_floor`.
void add_demand_curves(const World& w, OrderList& bids, bool inference_only, double price_floor) {
    // Looked up once, not per lab: the bids' stores could alias the vectors'
    // bounds and the scenario, so the compiler reloads (and re-checks) them
    // every iteration.
    const World::ContractIndex& contract_index = w.indexed_contracts();
    const std::size_t n_labs = w.labs.size();
    const double hours = w.hours_per_step();
    for (RoleIndex l = 0; l < n_labs; ++l) {
        const LabState& lab = w.labs[l];
        if (contract_index.exclusive[lab.firm] != 0 && exclusive_holder(w, lab.firm) != no_firm) continue;
        // Compute held serves training first; inference-only capacity serves inference only.
        const double general_held = lab.held - lab.held_inference_only;
        const double unmet_training = inference_only ? 0.0 : std::max(lab.need_training - general_held, 0.0);
        const double unmet_inference = std::max(
            lab.need_inference - lab.held_inference_only - std::max(general_held - lab.need_training, 0.0), 0.0);
        const double budget = std::max(lab.spend_limit - lab.compute_spend, 0.0);
        add_demand_curve(bids, l, unmet_training, lab.bid_training, unmet_inference, lab.bid_inference, budget, hours,
                         price_floor);
    }
}

double clear_spot_market(World& w, const AgentModel& agents, bool inference_only) {
    // The supply's totals first, from each cloud's top tranche alone: asks rise
    // with utilisation (AgentModel::cloud_asks), so it is the cloud's dearest,
    // and in a shortage (most clearings) every tranche sells and no other ask
    // matters. The quantities are summed tranche by tranche, in the order the
    // auction and total_by_trader sum the asks.
    SupplyTotals supply;
    std::size_t offering = 0;
    for (const RoleIndex c : w.spot_sellers) {
        const SpotOffer offer = spot_offer(w, c, inference_only);
        if (offer.residual <= 0) continue;
        const double top_utilisation = offer.tranche_utilisation(supply_tranches - 1);
        double dearest_ask = 0;
        agents.cloud_asks(w, c, {&top_utilisation, 1}, {&dearest_ask, 1});
        supply.dearest_price = std::max(supply.dearest_price, dearest_ask);
        double offered = 0;
        for (int k = 0; k < supply_tranches; ++k) supply.quantity += offer.tranche_quantity(), offered += offer.tranche_quantity();
        w.sellers_scratch[offering++] = {c, offered};
    }
    if (offering == 0 && inference_only) return NAN;  // no inference-only capacity on offer
    // A shortage is cleared by its dearer bids alone: those below the dearest
    // ask, or below the level after the marginal one, fill nothing and the price
    // lies above them. So when a shortage is likely (the last general clearing
    // was one: the kind of clearing mostly persists month to month) the curves
    // stop at a floor, the dearest ask or, for general capacity, a grid step
    // below last month's price if dearer (where the margin mostly stays); they
    // are bid in full if the cut curves do not clear alone. A guess either way
    // gives the same results.
    double price_floor = -INFINITY;
    if (w.spot_shortage) {
        price_floor = supply.dearest_price;
        const double below_last_price = demand_grid_steps[1] * w.spot_price;  // NaN before any trade: not dearer
        if (!inference_only && below_last_price > price_floor) price_floor = below_last_price;
    }
    OrderList bids(w.bids);
    add_demand_curves(w, bids, inference_only, price_floor);
    // In a shortage every offering cloud sells all it offers (sellers_scratch
    // as filled above); otherwise the full curves find the margin.
    std::optional<ClearingResult> result = clear_shortage(supply, bids.orders(), w.auction_scratch);
    if (price_floor > -INFINITY && !cut_bids_clear_alone(result, bids.orders())) {
        bids = OrderList(w.bids);
        add_demand_curves(w, bids, inference_only, -INFINITY);
        result = clear_shortage(supply, bids.orders(), w.auction_scratch);
    }
    if (!inference_only) w.spot_shortage = result.has_value();
    std::size_t sellers = offering;
    if (!result) {
        OrderList asks(w.asks);
        add_spot_asks(w, agents, asks, inference_only);
        result = clear_at_margin(asks.orders(), bids.orders(), w.auction_scratch);
        sellers = total_by_trader(asks.orders(), w.sellers_scratch);
    }
    w.spot_volume += settle_spot(w, {w.sellers_scratch.data(), sellers}, bids.orders(), result->price, result->volume,
                                 inference_only);
    if (!inference_only) {
        w.unmet_demand = 0;
        for (const Order& bid : bids.orders())
            if (!(bid.price < result->price)) w.unmet_demand += bid.quantity - bid.filled;
    }
    return result->price;
}

// 5. Spot: inference-only capacity first (it can serve nothing else), then
// general capacity against all remaining need.
void phase_spot(World& w, const AgentModel& agents) {
    w.spot_volume = 0;
    clear_spot_market(w, agents, true);
    w.spot_price = clear_spot_market(w, agents, false);
    double total_capacity = 0;
    for (const CloudState& c : w.clouds) total_capacity += c.capacity_general;
    for (CloudState& cloud : w.clouds) {
        const CloudRole& role = *w.sc().firms[cloud.firm].cloud;
        const double capacity = cloud.capacity_general + cloud.capacity_inference;
        const double used = cloud.obligations + cloud.internal_use + cloud.spot_sold;
        cloud.utilisation = capacity > 0 ? used / capacity : 0.0;
        const double weight = w.param(role.spot_ewma_weight);
        // Demand the cloud saw: its sales plus its share of demand left unserved.
        const double signal = cloud.spot_sold + (total_capacity > 0 && role.sells_capacity
                                                     ? w.unmet_demand * cloud.capacity_general / total_capacity
                                                     : 0.0);
        cloud.spot_ewma = w.step == 0 ? signal : weight * signal + (1 - weight) * cloud.spot_ewma;
    }
}

// Algorithmic progress since the start: compute at fixed capability halves every
// algo_doubling_months. The same for every lab this step, so computed once per step.
double algorithmic_efficiency(const World& w) {
    const double months = static_cast<double>(w.step * w.sc().months_per_step);
    return std::exp2(months / w.param(w.sc().market.algo_doubling_months));
}

void accumulate_capability(World& w, LabState& lab, double algo_efficiency) {
    const MarketSpec& m = w.sc().market;
    const LabRole& role = *w.sc().firms[lab.firm].lab;
    const double efficiency = algo_efficiency * w.param(role.talent_factor);
    const double flop =
        lab.compute_training * w.param(m.flop_per_h100e_month) * w.sc().months_per_step * efficiency;
    lab.flop_window[static_cast<std::size_t>(lab.window_head)] = flop;
    lab.window_head = (lab.window_head + 1) % static_cast<int>(lab.flop_window.size());
    double total = 0;
    for (double f : lab.flop_window) total += f;
    if (total > 0) lab.capability = std::max(lab.capability, std::log10(total));
}

void serve_end_market_phase(World& w) {
    const Scenario& sc = w.sc();
    const std::size_t n = w.labs.size();
    if (n == 0) return;
    std::vector<double>& scratch = w.end_market_scratch;
    scratch.resize(5 * n);
    std::span<double> utility(scratch.data(), n), shares(scratch.data() + n, n), potential(scratch.data() + 2 * n, n),
        serveable(scratch.data() + 3 * n, n), served(scratch.data() + 4 * n, n);
    const double alpha = w.param(sc.market.logit_alpha);
    const double rho = w.param(sc.market.rho_usd_per_h100e_hour);
    for (std::size_t i = 0; i < n; ++i) {
        const LabState& lab = w.labs[i];
        const LabRole& role = *sc.firms[lab.firm].lab;
        // A licence lets the licensee sell the licensor's model through its own distribution.
        const double capability = std::max(lab.capability, lab.licensed_capability);
        utility[i] = alpha * capability + w.param(role.brand) + w.param(role.distribution);
    }
    logit_shares(utility, shares);
    for (std::size_t i = 0; i < n; ++i) {
        potential[i] = shares[i] * w.end_market_usd * w.years_per_step();
        serveable[i] = w.labs[i].compute_inference * w.hours_per_step() * rho;
    }
    serve_end_market(potential, serveable, shares, served);
    for (std::size_t i = 0; i < n; ++i) {
        LabState& lab = w.labs[i];
        lab.share = shares[i];
        lab.revenue_potential = potential[i];
        lab.revenue_served = served[i];
        receive_external(w, lab.firm, served[i], &ExternalFlows::end_market);
        w.firms[lab.firm].revenue += served[i];
    }
}

// 6. Use: training and inference, capability, the end market.
void phase_use(World& w, const AgentModel& agents) {
    const double algo_efficiency = algorithmic_efficiency(w);
    for (RoleIndex l = 0; l < w.labs.size(); ++l) {
        agents.lab_use(w, l);
        accumulate_capability(w, w.labs[l], algo_efficiency);
    }
    for (const LabState& lab : w.labs) w.frontier = std::max(w.frontier, lab.capability);
    serve_end_market_phase(w);
}

// 7. Invest: clouds expand, chipmakers reprice.
void phase_invest(World& w, const AgentModel& agents) {
    for (RoleIndex c = 0; c < w.clouds.size(); ++c) agents.cloud_invest(w, c);
    agents.chipmakers_reprice(w);
}

void pay_operating_costs(World& w) {
    const Scenario& sc = w.sc();
    const double hours = w.hours_per_step();
    for (const CloudState& cloud : w.clouds) {
        const CloudRole& role = *sc.firms[cloud.firm].cloud;
        double power = 0;
        for (const Site& site : cloud.sites) power += site.used_mw * hours * w.power_price[site.region];
        double fleet_value = 0;
        for (ChipId c : cloud.held_families) fleet_value += cloud.installed[c] * w.list_price[c];
        pay_external(w, cloud.firm, power, &ExternalFlows::power);
        pay_external(w, cloud.firm, w.param(role.om_rate) * fleet_value * w.years_per_step(), &ExternalFlows::operations);
    }
    for (LabState& lab : w.labs) {
        const double wages = w.param(sc.firms[lab.firm].lab->opex_usd_per_month) * sc.months_per_step;
        pay_external(w, lab.firm, wages, &ExternalFlows::wages);
    }
}

// A firm's own value (its lab's valuation, its other business at a revenue
// multiple, net cash) and its entangled value V = (I - E)^-1 own, which adds
// the value of its stakes in others (MODEL.md 11).
void value_firms(World& w) {
    const std::size_t n = w.n_firms();
    const double multiple = w.param(w.sc().market.firm_revenue_multiple);
    for (std::size_t f = 0; f < n; ++f) {
        const FirmState& firm = w.firms[f];
        const LabState* lab = firm.lab != no_role ? &w.labs[firm.lab] : nullptr;
        const double lab_revenue = lab ? lab->revenue_served : 0.0;
        const double other_revenue = std::max(firm.revenue - lab_revenue, 0.0) / w.years_per_step();
        w.own_value[static_cast<Eigen::Index>(f)] =
            std::max((lab ? lab->valuation : 0.0) + multiple * other_revenue + firm.cash - firm.debt, 0.0);
    }
    w.valuation.solve(w.equity, w.own_value, w.firm_value);
}

// Negative cash is covered by borrowing; spare cash repays debt.
void settle_debt(World& w) {
    const double rate = w.interest_pow(1.0 + w.param(w.sc().market.interest_rate), 1.0 / 12.0) - 1.0;  // monthly_rate
    for (FirmId f = 0; f < w.firms.size(); ++f) {
        FirmState& firm = w.firms[f];
        if (firm.debt > 0)
            pay_external(w, f, firm.debt * (w.debt_pow(1 + rate, w.sc().months_per_step) - 1), &ExternalFlows::interest);
        if (firm.cash < 0) {
            const double loan = -firm.cash;
            receive_external(w, f, loan, &ExternalFlows::borrowing);
            firm.debt += loan;
        } else if (firm.debt > 0) {
            const double repay = std::min(firm.debt, 0.5 * firm.cash);
            pay_external(w, f, repay, &ExternalFlows::repayment);
            firm.debt -= repay;
        }
    }
}

// 8. Finance: operating costs, funding rounds, debt.
void phase_finance(World& w, const AgentModel& agents) {
    pay_operating_costs(w);
    settle_contracts(w);
    for (RoleIndex l = 0; l < w.labs.size(); ++l) agents.lab_finance(w, l);
    run_agi_panel(w);
    settle_debt(w);
}

double herfindahl(const World& w, FirmId firm, bool as_customer) {
    const std::size_t n = w.n_firms();
    double total = 0, squares = 0;
    for (std::size_t other = 0; other < n; ++other) {
        const double q = as_customer ? w.flow[other * n + firm] : w.flow[firm * n + other];
        total += q;
        squares += q * q;
    }
    return total > 0 ? squares / (total * total) : NAN;
}

// 9. Record the step.
void phase_record(World& w, ReplicationRecord& r) {
    const int every = w.sc().outputs.every;
    if (w.step % every != 0) return;
    const int t = w.step / every;
    if (r.shape.valuation) value_firms(w);  // a measure, not a decision: solved only for recorded months
    // Flows are recorded per month whatever the step, as their units say: a quarterly
    // run's quarter totals become the quarter's monthly average, comparable with a
    // monthly run's (a monthly run's values are left exactly as they are).
    const int months_per_step = w.sc().months_per_step;
    const auto per_month = [months_per_step](double per_step) {
        return months_per_step == 1 ? per_step : per_step / months_per_step;
    };
    for (FirmId f = 0; f < w.firms.size(); ++f) {
        const FirmState& firm = w.firms[f];
        r.firm_at(FirmSeries::cash, t, f) = firm.cash;
        r.firm_at(FirmSeries::revenue, t, f) = per_month(firm.revenue);
        r.firm_at(FirmSeries::capex, t, f) = per_month(firm.capex);
        const LabState* lab = firm.lab != no_role ? &w.labs[firm.lab] : nullptr;
        const CloudState* cloud = firm.cloud != no_role ? &w.clouds[firm.cloud] : nullptr;
        r.firm_at(FirmSeries::compute, t, f) = lab ? lab->held : NAN;
        r.firm_at(FirmSeries::compute_training, t, f) = lab ? lab->compute_training : NAN;
        r.firm_at(FirmSeries::compute_inference, t, f) = lab ? lab->compute_inference : NAN;
        r.firm_at(FirmSeries::capability, t, f) = lab ? lab->capability : NAN;
        r.firm_at(FirmSeries::market_share, t, f) = lab ? lab->share : NAN;
        r.firm_at(FirmSeries::valuation, t, f) = r.shape.valuation ? w.firm_value[f] : NAN;
        r.firm_at(FirmSeries::supplier_hhi, t, f) = lab ? herfindahl(w, f, true) : NAN;
        r.firm_at(FirmSeries::customer_hhi, t, f) = cloud ? herfindahl(w, f, false) : NAN;
        r.firm_at(FirmSeries::utilisation, t, f) = cloud ? cloud->utilisation : NAN;
        double online = 0, stranded = 0;
        if (cloud) {
            for (const Site& s : cloud->sites) online += s.online_mw;
            for (double u : cloud->stranded) stranded += u;
        }
        r.firm_at(FirmSeries::power_online_mw, t, f) = cloud ? online : NAN;
        r.firm_at(FirmSeries::stranded_units, t, f) = cloud ? stranded : NAN;
    }
    double contract_quantity = 0, contract_value = 0;
    for (std::uint32_t position : w.indexed_contracts().live) {
        const ContractState& c = w.contracts[position];
        if (c.status != ContractStatus::active || c.spec->kind != ContractKind::capacity) continue;
        contract_quantity += c.delivered_this_step;
        contract_value += c.delivered_this_step * c.spec->price_usd_per_h100e_hour;
    }
    double total_compute = 0, power_used = 0, power_available = 0;
    for (const CloudState& cloud : w.clouds) {
        total_compute += cloud.capacity_general + cloud.capacity_inference;
        for (const Site& s : cloud.sites) power_used += s.used_mw;
    }
    for (const RegionState& region : w.regions) power_available += region.available_mw;
    r.market_at(MarketSeries::spot_price, t) = w.spot_price;
    r.market_at(MarketSeries::spot_volume, t) = w.spot_volume;
    r.market_at(MarketSeries::contract_price_mean, t) = contract_quantity > 0 ? contract_value / contract_quantity : NAN;
    r.market_at(MarketSeries::frontier_capability, t) = w.frontier;
    r.market_at(MarketSeries::total_compute, t) = total_compute;
    r.market_at(MarketSeries::end_market_usd, t) = w.end_market_usd;
    r.market_at(MarketSeries::power_used_mw, t) = power_used;
    r.market_at(MarketSeries::power_available_mw, t) = power_available;
    for (ChipState& chip : w.chips) chip.installed = 0;
    for (const CloudState& cloud : w.clouds)
        for (ChipId c : cloud.held_families) w.chips[c].installed += cloud.installed[c];
    for (ChipId c = 0; c < w.chips.size(); ++c) {
        r.chip_at(ChipSeries::price, t, c) = w.chips[c].price;
        r.chip_at(ChipSeries::shipped, t, c) = per_month(w.chips[c].shipped);
        r.chip_at(ChipSeries::installed, t, c) = w.chips[c].installed;
    }
    if (r.shape.network) {
        const std::size_t n = w.n_firms();
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) {
                r.flow_at(t, static_cast<int>(i), static_cast<int>(j)) = static_cast<float>(w.flow[i * n + j]);
                r.equity_at(t, static_cast<int>(i), static_cast<int>(j)) = static_cast<float>(w.equity[i * n + j]);
            }
    }
}

[[noreturn]] void violation(const World& w, const std::string& what) {
    std::ostringstream message;
    message << "invariant broken at step " << w.step << " (" << format_month(w.month()) << "): " << what;
    throw InvariantViolation(message.str());
}

// The state values that must stay finite, each with its firm (no_firm: the
// market) and its name: one list for the pass every step and the search for the
// culprit.
template <typename Visit>
void visit_state_values(const World& w, Visit&& visit) {
    visit(w.end_market_usd, no_firm, "end market (USD a year)");
    for (FirmId f = 0; f < w.firms.size(); ++f) {
        visit(w.firms[f].cash, f, "cash");
        visit(w.firms[f].debt, f, "debt");
        visit(w.firms[f].revenue, f, "revenue");
    }
    for (const LabState& lab : w.labs) {
        visit(lab.capability, lab.firm, "capability");
        visit(lab.need_training + lab.need_inference, lab.firm, "compute need");
        visit(lab.held, lab.firm, "compute held");
    }
    for (const CloudState& cloud : w.clouds)
        visit(cloud.capacity_general + cloud.capacity_inference, cloud.firm, "capacity");
}

// A value past what a double holds (a run carried far beyond its growth paths:
// effective compute doubles with algorithmic progress and overflows in some
// centuries) would make every later number NaN without a word. Named at its
// first appearance instead, before the sums below turn it into a money error.
void check_finite_state(const World& w) {
    // One pass of plain tests (this runs every step); the culprit is looked for only when one fails.
    bool finite = true;
    visit_state_values(w, [&](double value, FirmId, const char*) { finite &= std::isfinite(value); });
    if (finite) [[likely]]
        return;
    visit_state_values(w, [&](double value, FirmId firm, const char* what) {
        if (std::isfinite(value)) return;
        std::ostringstream m;
        m << "state: " << (firm == no_firm ? std::string("the market") : w.sc().firms[firm].name) << "'s " << what
          << " is " << value
          << " (not a finite number); a run this far past its growth paths' range overflows: end it earlier or "
             "lower the growth rates";
        violation(w, m.str());
    });
}

// MODEL.md section 10, every step.
void check_invariants(World& w, double cash_before) {
    check_finite_state(w);
    const double cash_after = sum_cash(w);
    const double expected = w.external.inflow() - w.external.outflow();
    const double scale = 1.0 + std::fabs(cash_before) + w.external.inflow() + w.external.outflow();
    if (!(std::fabs(cash_after - cash_before - expected) <= 1e-9 * scale)) {
        std::ostringstream m;
        m.precision(17);
        m << "money: firms' cash changed by " << cash_after - cash_before << " USD but external flows net "
          << expected << " USD";
        violation(w, m.str());
    }
    const std::size_t n = w.n_firms();
    // Power online per region, summed in the pass over the clouds' sites below (in the order of
    // a pass per region).
    std::vector<double>& online_in = w.region_scratch;
    online_in.assign(w.regions.size(), 0.0);
    for (const CloudState& cloud : w.clouds) {
        const std::string& name = w.sc().firms[cloud.firm].name;
        const double capacity = cloud.capacity_general + cloud.capacity_inference;
        const double delivered = cloud.obligations + cloud.internal_use + cloud.spot_sold;
        if (delivered > capacity * (1 + 1e-9) + tolerance)
            violation(w, "capacity: " + name + " delivered " + std::to_string(delivered) + " H100e but has " +
                             std::to_string(capacity));
        double row = 0;
        for (std::size_t j = 0; j < n; ++j) row += w.flow[cloud.firm * n + j];
        if (std::fabs(row - delivered) > 1e-6 * (1 + delivered))
            violation(w, "capacity: " + name + " delivered " + std::to_string(delivered) +
                             " H100e but its customers received " + std::to_string(row));
        for (const Site& site : cloud.sites) {
            if (site.used_mw > site.online_mw * (1 + 1e-9) + 1e-6)
                violation(w, "power: " + name + " draws " + std::to_string(site.used_mw) + " MW in " +
                                 w.sc().regions[site.region].name + " with " + std::to_string(site.online_mw) +
                                 " MW online");
            online_in[site.region] += site.online_mw;
        }
        // The smallest stock first (one branch per cloud); the family only to name it.
        double lowest = 0;
        for (ChipId c : cloud.held_families)
            lowest = std::min({lowest, cloud.installed[c], cloud.stranded[c], cloud.on_order[c]});
        if (lowest < -tolerance)
            for (ChipId c = 0; c < cloud.installed.size(); ++c)
                if (cloud.installed[c] < -tolerance || cloud.stranded[c] < -tolerance || cloud.on_order[c] < -tolerance)
                    violation(w, "stock: " + name + " holds a negative number of " + w.sc().chips[c].name + " units");
    }
    for (const LabState& lab : w.labs) {
        double column = 0;
        for (std::size_t i = 0; i < n; ++i) column += w.flow[i * n + lab.firm];
        if (std::fabs(column - lab.held) > 1e-6 * (1 + lab.held))
            violation(w, "capacity: " + w.sc().firms[lab.firm].name + " holds " + std::to_string(lab.held) +
                             " H100e but suppliers delivered " + std::to_string(column));
    }
    for (FirmId f = 0; f < w.firms.size(); ++f)
        if (w.firms[f].cash < -tolerance * (1 + w.firms[f].debt))
            violation(w, "cash: " + w.sc().firms[f].name + " has negative cash " + std::to_string(w.firms[f].cash) +
                             " USD after borrowing");
    for (std::size_t r = 0; r < w.regions.size(); ++r) {
        const double online = online_in[r];
        if (std::fabs(online - w.regions[r].allocated_mw) > 1e-6 * (1 + online))
            violation(w, "power: datacenters online in " + w.sc().regions[r].name + " (" + std::to_string(online) +
                             " MW) differ from the power allocated there (" +
                             std::to_string(w.regions[r].allocated_mw) + " MW)");
    }
}

}  // namespace

void list_cloud_families(World& w) {
    for (CloudState& cloud : w.clouds) {
        cloud.families.clear();
        cloud.held_families.clear();
        for (ChipId c = 0; c < w.chips.size(); ++c) {
            const bool held = cloud.installed[c] != 0 || cloud.stranded[c] != 0 || cloud.on_order[c] != 0;
            if (held) cloud.held_families.push_back(c);
            if (held || may_buy(w, cloud.firm, c)) cloud.families.push_back(c);
        }
    }
}

bool may_buy(const Scenario& sc, FirmId buyer, ChipId chip) {
    const ChipSpec& spec = sc.chips[chip];
    if (spec.vendor == buyer || spec.sold_to_any) return true;
    return std::find(spec.sold_to.begin(), spec.sold_to.end(), buyer) != spec.sold_to.end();
}

void raise_outside_funding(World& w, FirmId firm, double usd) {
    receive_external(w, firm, usd, &ExternalFlows::outside_funding);
}

double borrowing_headroom(const World& w, FirmId firm) {
    const FirmState& f = w.firms[firm];
    if (f.cloud == no_role) return 0;
    const CloudRole& role = *w.sc().firms[firm].cloud;
    return std::max(w.param(role.max_leverage) * w.clouds[f.cloud].book_value - w.account(firm).debt, 0.0);
}

void place_chip_order(World& w, RoleIndex cloud, ChipId chip, double units, double unit_price, bool priority) {
    if (units <= 0) return;
    const FirmId buyer = w.clouds[cloud].firm;
    std::vector<ChipOrder>& orders = w.chips[chip].orders;
    const FirmSpec& vendor = w.sc().firms[w.sc().chips[chip].vendor];
    // Under pro-rata and strategic allocation a buyer's open orders are all served the same
    // fraction, so they are one order at their average price: what ships, and what it costs,
    // is the same, and a vendor's book holds an order per buyer instead of one per month.
    const bool merge = !priority && vendor.chipmaker && vendor.chipmaker->allocation != Allocation::fifo;
    ChipOrder* open = nullptr;
    if (merge)  // at most one such order
        for (ChipOrder& order : orders)
            if (order.cloud == cloud && !order.priority) {
                open = &order;
                break;
            }
    if (open) {
        open->unit_price = (open->units_left * open->unit_price + units * unit_price) / (open->units_left + units);
        open->units_left += units;
    } else {
        orders.push_back(ChipOrder{buyer, cloud, chip, units, unit_price, w.step, 0, priority});
    }
    // Sorted insertions into lists reserved for every family: no allocation. A family it already
    // has on order is in both (held_families keeps every family with stock): most orders.
    if (w.clouds[cloud].on_order[chip] == 0) {
        std::vector<ChipId>& families = w.clouds[cloud].families;
        if (const auto at = std::ranges::lower_bound(families, chip); at == families.end() || *at != chip)
            families.insert(at, chip);  // a family it may no longer buy (chip_supply deals): rare
        std::vector<ChipId>& held = w.clouds[cloud].held_families;
        if (const auto at = std::ranges::lower_bound(held, chip); at == held.end() || *at != chip)
            held.insert(at, chip);
    }
    w.clouds[cloud].on_order[chip] += units;
    w.chips[chip].backlog += units;
}

void start_construction(World& w, RoleIndex cloud, std::uint16_t site, double mw) {
    if (mw <= 0) return;
    CloudState& state = w.clouds[cloud];
    Site& s = state.sites[site];
    const RegionSpec& region = w.sc().regions[s.region];
    const CloudRole& role = *w.sc().firms[state.firm].cloud;
    RegionState& region_state = w.regions[s.region];
    int months = region.build_months;
    if (region.delay) months += static_cast<int>(std::lround(std::max(
                          draw(*region.delay, draw_standard_normal(region_state.delay_stream),
                               draw_uniform01(region_state.delay_stream)),
                          0.0)));
    const double cost = mw * w.param(role.dc_capex_per_mw);
    pay_external(w, state.firm, cost, &ExternalFlows::construction);
    w.firms[state.firm].capex += cost;
    s.building_mw += mw;
    region_state.queue.push_back(ConstructionProject{cloud, site, mw, w.step + months_to_steps(w, months)});
    region_state.queued_mw += mw;
}

std::vector<double> draw_uncertain(const Scenario& sc, const StreamKey& key) {
    std::vector<double> drawn(sc.uncertain.size());
    for (std::size_t i = 0; i < sc.uncertain.size(); ++i) {
        const UncertainParam& u = sc.uncertain[i];
        RandomEngine stream = make_stream(key, u.owner, "param:" + u.key_path);
        const double z = draw_standard_normal(stream);
        const double uniform = draw_uniform01(stream);
        drawn[i] = draw(u.distribution, z, uniform);
    }
    return drawn;
}

namespace {

// The roles each kind of contract needs of its parties.
void check_contract_roles(const Scenario& sc, const ContractSpec& c, std::vector<std::string>& problems) {
    const auto need = [&](FirmId firm, bool has, const char* side, const char* role) {
        if (!has)
            problems.push_back("contract '" + c.id + "': " + side + " '" + sc.firms[firm].name + "' needs a " + role +
                               " role for a " + contract_kind_name(c.kind) + " contract");
    };
    switch (c.kind) {
        case ContractKind::capacity:
            need(c.seller, sc.firms[c.seller].cloud.has_value(), "seller", "cloud");
            need(c.buyer, sc.firms[c.buyer].lab.has_value(), "buyer", "lab");
            break;
        case ContractKind::chip_supply:
            need(c.buyer, sc.firms[c.buyer].cloud.has_value(), "buyer", "cloud");
            if (sc.chips[c.chip].vendor != c.seller)
                problems.push_back("contract '" + c.id + "': chip '" + sc.chips[c.chip].name + "' is made by '" +
                                   sc.firms[sc.chips[c.chip].vendor].name + "', not by the seller '" +
                                   sc.firms[c.seller].name + "'");
            break;
        case ContractKind::licence:
            need(c.seller, sc.firms[c.seller].lab.has_value(), "licensor (seller)", "lab");
            need(c.buyer, sc.firms[c.buyer].lab.has_value(), "licensee (buyer)", "lab");
            break;
        case ContractKind::equity:
            if (c.share <= 0 && !sc.firms[c.seller].lab)
                problems.push_back("contract '" + c.id + "': an investment in '" + sc.firms[c.seller].name +
                                   "', which has no lab valuation, must state the stake as share");
            if (c.in_kind) need(c.buyer, sc.firms[c.buyer].cloud.has_value(), "investor (buyer)", "cloud");
            break;
        case ContractKind::commitment:
        case ContractKind::revenue_share: break;
    }
}

}  // namespace

// Acquisitions in date order: a firm is bought at most once, never by a firm it owns.
void check_acquisitions(const Scenario& sc, std::vector<std::string>& problems) {
    std::vector<const EventSpec*> acquisitions;
    for (const EventSpec& e : sc.events)
        if (e.enabled && e.kind == EventKind::acquire && e.firms.size() == 2) acquisitions.push_back(&e);
    std::ranges::stable_sort(acquisitions, {}, [](const EventSpec* e) { return e->at; });
    std::vector<FirmId> owner(sc.firms.size());
    for (FirmId f = 0; f < owner.size(); ++f) owner[f] = f;
    for (const EventSpec* e : acquisitions) {
        const FirmId acquirer = e->firms[0], target = e->firms[1];
        if (owner[target] != target)
            problems.push_back("event '" + e->id + "': '" + sc.firms[target].name + "' was already acquired by '" +
                               sc.firms[owner[target]].name + "'");
        else if (owner[acquirer] == target)
            problems.push_back("event '" + e->id + "': '" + sc.firms[acquirer].name + "' is owned by its target '" +
                               sc.firms[target].name + "'");
        else
            for (FirmId& o : owner)
                if (o == target) o = owner[acquirer];
    }
}

void check_runnable(const Scenario& sc) {
    std::vector<std::string> problems;
    for (const ContractSpec& c : sc.contracts) check_contract_roles(sc, c, problems);
    for (const EventSpec& e : sc.events)
        if (e.enabled && e.contract) check_contract_roles(sc, *e.contract, problems);
    for (const FirmSpec& firm : sc.firms)
        if (firm.lab)
            for (const StrategicInvestor& investor : firm.lab->investors) {
                const std::string& name = sc.firms[investor.firm].name;
                if (name == firm.name)
                    problems.push_back("firm '" + firm.name + "': a lab cannot be its own strategic investor");
                else if (investor.in_kind && !sc.firms[investor.firm].cloud)
                    problems.push_back("firm '" + firm.name + "': investor '" + name +
                                       "' invests in kind (cloud credits) but has no cloud role");
            }
    check_acquisitions(sc, problems);
    if (!problems.empty()) {
        std::string text;
        for (const std::string& p : problems) {
            if (!text.empty()) text += '\n';
            text += sc.source_path;
            text += ": ";
            text += p;
        }
        throw ModelInputError(text);
    }
}

std::vector<std::string> scenario_notes(const Scenario& sc) {
    std::vector<std::string> notes;
    for (const EventSpec& e : sc.events)
        if (e.enabled && e.at > sc.end)
            notes.push_back("event '" + e.id + "' (" + format_month(e.at) + ") is after the end (" + format_month(sc.end) +
                            "): it never happens");
    // Signed by an event before the start, a contract already over is history a late
    // start leaves out on purpose; one stated as in force at the start is not.
    for (const ContractSpec& c : sc.contracts)
        if (c.end < sc.start)
            notes.push_back("contract '" + c.id + "' ends (" + format_month(c.end) + ") before the start (" +
                            format_month(sc.start) + "): it is never in force");
    return notes;
}

void init_world(World& w, const Scenario& sc, const StreamKey& key, std::span<const double> drawn) {
    w.scenario = &sc;
    w.drawn = drawn;
    w.stream_key = key;
    w.step = 0;
    w.steps = sc.steps();
    const std::size_t n = sc.firms.size();
    w.firms.assign(n, FirmState{});
    // Room for every role up front: a role's state is large (a lab holds its AGI
    // stream), and growing the arrays would copy it once per doubling.
    std::size_t n_labs = 0, n_clouds = 0, n_chipmakers = 0;
    for (const FirmSpec& spec : sc.firms)
        n_labs += spec.lab.has_value(), n_clouds += spec.cloud.has_value(), n_chipmakers += spec.chipmaker.has_value();
    w.labs.clear();
    w.labs.reserve(n_labs);
    w.clouds.clear();
    w.clouds.reserve(n_clouds);
    w.chipmakers.clear();
    w.chipmakers.reserve(n_chipmakers);
    for (FirmId f = 0; f < n; ++f) {
        const FirmSpec& spec = sc.firms[f];
        if (spec.lab) w.firms[f].lab = static_cast<RoleIndex>(w.labs.size()), w.labs.emplace_back();
        if (spec.cloud) w.firms[f].cloud = static_cast<RoleIndex>(w.clouds.size()), w.clouds.emplace_back();
        if (spec.chipmaker) {
            w.firms[f].chipmaker = static_cast<RoleIndex>(w.chipmakers.size());
            ChipmakerState& maker = w.chipmakers.emplace_back();
            maker.firm = f;
            maker.requested.reserve(64);
            maker.priority.reserve(64);
            maker.shipped.reserve(64);
            w.firms[f].cash += w.param(spec.chipmaker->cash);
        }
    }
    w.regions.assign(sc.regions.size(), RegionState{});
    for (RegionId r = 0; r < sc.regions.size(); ++r) {
        w.regions[r].available_mw = w.param(sc.regions[r].power_mw);
        w.regions[r].delay_stream = DeferredStream(key, sc.regions[r].name, "build_delay");
        w.regions[r].queue.reserve(64);
    }
    w.chips.assign(sc.chips.size(), ChipState{});
    init_prices(w);
    w.family_parameter_moves.clear();
    for (ChipId c = 0; c < sc.chips.size(); ++c) {
        const ChipSpec& spec = sc.chips[c];
        read_family_parameters(w, c);
        w.chips[c].inference_only = spec.workload == Workload::inference;
        if (spec.power_kw.kind() != Param::Kind::constant || spec.h100e.kind() != Param::Kind::constant ||
            spec.software_factor.kind() != Param::Kind::constant)
            w.family_parameter_moves.push_back(c);
        w.chips[c].price = w.list_price[c];
        w.chips[c].orders.reserve(64);
        // A family loses value once a newer family of its vendor ships.
        for (const ChipSpec& other : sc.chips)
            if (other.vendor == sc.chips[c].vendor && other.release > sc.chips[c].release &&
                other.release < w.chips[c].superseded_at)
                w.chips[c].superseded_at = other.release;
    }
    for (FirmId f = 0; f < n; ++f) {
        const FirmSpec& spec = sc.firms[f];
        if (spec.lab) init_lab(w, w.firms[f].lab, f, *spec.lab);
        if (spec.cloud) init_cloud(w, w.firms[f].cloud, f, *spec.cloud);
    }
    for (RegionId r = 0; r < sc.regions.size(); ++r)
        if (w.regions[r].allocated_mw > w.regions[r].available_mw * (1 + 1e-9) + 1e-9)
            throw ModelInputError(sc.source_path + ": region '" + sc.regions[r].name + "': clouds' power_online (" +
                                  std::to_string(w.regions[r].allocated_mw) + " MW) exceeds its power_mw (" +
                                  std::to_string(w.regions[r].available_mw) + " MW)");
    for (RoleIndex c = 0; c < w.clouds.size(); ++c)
        for (const Site& site : w.clouds[c].sites)
            if (site.used_mw > site.online_mw * (1 + 1e-9) + 1e-9)
                throw ModelInputError(sc.source_path + ": firm '" + sc.firms[w.clouds[c].firm].name +
                                      "': its fleet in region '" + sc.regions[site.region].name + "' draws " +
                                      std::to_string(site.used_mw) + " MW but only " +
                                      std::to_string(site.online_mw) + " MW is online (power_online)");
    w.buyable.assign(n * sc.chips.size(), 0);
    for (FirmId f = 0; f < n; ++f)
        for (ChipId c = 0; c < sc.chips.size(); ++c) w.buyable[f * sc.chips.size() + c] = may_buy(sc, f, c);
    for (CloudState& cloud : w.clouds) {
        cloud.families.reserve(sc.chips.size());
        cloud.held_families.reserve(sc.chips.size());
    }
    list_cloud_families(w);
    w.treasury.resize(n);
    for (FirmId f = 0; f < n; ++f) w.treasury[f] = f;
    const bool has_forbids = std::ranges::any_of(
        sc.events, [](const EventSpec& e) { return e.enabled && e.kind == EventKind::forbid; });
    w.forbidden.assign(has_forbids ? n * n : 0, 0);
    w.any_forbidden = false;
    w.pairing_scratch.reserve(has_forbids ? w.clouds.size() * w.labs.size() : 0);
    w.flow.assign(n * n, 0);
    w.equity.assign(n * n, 0);
    for (const EquityStake& s : sc.equity) w.equity[s.holder * n + s.target] = s.share;
    w.credits.assign(n * n, 0);
    w.signed_specs.clear();
    w.valuation = EntangledValuation{};
    w.own_value.resize(static_cast<Eigen::Index>(n));
    w.firm_value.resize(static_cast<Eigen::Index>(n));
    w.event_log.clear();
    w.events_by_month.clear();
    for (std::uint32_t i = 0; i < sc.events.size(); ++i)
        if (sc.events[i].enabled) w.events_by_month.push_back(i);
    std::ranges::stable_sort(w.events_by_month, {}, [&](std::uint32_t i) { return sc.events[i].at; });
    w.next_event = 0;
    for (LabState& lab : w.labs) lab.agi_stream = DeferredStream(key, sc.firms[lab.firm].name, "agi_panel");
    init_contracts(w);
    w.market_stream = DeferredStream(key, "market", "end_demand");
    w.growth_index = 1;
    w.demand_walk = 0;
    w.spot_price = NAN;
    w.spot_volume = w.unmet_demand = 0;
    w.spot_sellers.clear();
    for (RoleIndex c = 0; c < w.clouds.size(); ++c)
        if (sc.firms[w.clouds[c].firm].cloud->sells_capacity) w.spot_sellers.push_back(c);
    // The most orders a clearing takes: each cloud's tranches, and each lab's
    // grid steps plus its two values.
    w.asks.resize(w.clouds.size() * supply_tranches);
    w.bids.resize((demand_grid + 2) * w.labs.size());
    // The auction's buffers at their largest, so that clearing never allocates.
    w.auction_scratch.supply.resize(2 * w.asks.size());
    w.auction_scratch.supply_spare.resize(2 * w.asks.size());
    w.auction_scratch.demand.resize(w.asks.size());
    w.auction_scratch.run_heads.resize(w.bids.size());
    w.auction_scratch.runs.reserve(std::max(w.asks.size(), w.bids.size()));
    w.sellers_scratch.resize(w.clouds.size());
    w.buyers_scratch.resize(w.labs.size());
    w.end_market_scratch.reserve(5 * w.labs.size());
    init_end_market(w);
}

void step(World& w, const AgentModel& agents, ReplicationRecord* record) {
    const double cash_before = sum_cash(w);
    phase_world(w);
    phase_supply(w, agents);
    phase_contracts(w);
    phase_procurement(w, agents);
    phase_spot(w, agents);
    phase_use(w, agents);
    phase_invest(w, agents);
    phase_finance(w, agents);
    if (record) phase_record(w, *record);
    check_invariants(w, cash_before);
}

RecordShape record_shape(const Scenario& sc) {
    const int every = std::max(sc.outputs.every, 1);
    const bool valuation = sc.outputs.all_series || std::find(sc.outputs.series.begin(), sc.outputs.series.end(),
                                                              "valuation") != sc.outputs.series.end();
    return RecordShape{(sc.steps() + every - 1) / every, static_cast<int>(sc.firms.size()),
                       static_cast<int>(sc.chips.size()), sc.outputs.network, valuation};
}

void run_replication(const Scenario& sc, const AgentModel& agents, const StreamKey& key, ReplicationRecord* record) {
    const std::vector<double> drawn = draw_uncertain(sc, key);
    World w;
    init_world(w, sc, key, drawn);
    w.log_events = record != nullptr && record->tables;
    if (record) {
        record->point = static_cast<std::uint32_t>(key.point);
        record->replication = static_cast<std::uint32_t>(key.replication);
        record->resize(record_shape(sc));
        record->drawn = drawn;
        record->contracts.clear();
        record->events.clear();
    }
    for (w.step = 0; w.step < w.steps; ++w.step) step(w, agents, record);
    if (record && record->tables) {
        record->contracts = contract_rows(w);
        record->events = std::move(w.event_log);
    }
}

}  // namespace entangle
