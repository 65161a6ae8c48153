#pragma once
// Closed-form economics shared by agents, bargaining and tests (MODEL.md 5.2).
#include <cmath>

#include "engine/cached_pow.hpp"

namespace entangle {

// Monthly rate equivalent to an annual cost of capital.
inline double monthly_rate(double annual_rate) { return std::pow(1.0 + annual_rate, 1.0 / 12.0) - 1.0; }

// Capital recovery factor: the level monthly payment that repays 1 over n months at rate r.
inline double capital_recovery_factor(double monthly_r, double months) {
    if (monthly_r <= 0) return 1.0 / months;
    return monthly_r / (1.0 - std::pow(1.0 + monthly_r, -months));
}

struct LevelisedCostInputs {
    double chip_price = 0;          // USD per unit
    double lifetime_months = 60;
    double power_kw = 1.4;          // per unit, all-in
    double dc_capex_per_mw = 11e6;
    double dc_life_months = 180;
    double power_usd_per_mwh = 70;
    double om_rate = 0.05;          // annual share of chip price
    double h100e = 1.0;
    double software_factor = 1.0;
    double target_utilisation = 0.8;
    double wacc = 0.10;             // annual
};

struct LevelisedCost {
    double full = 0;      // c_lev: capital, datacenter, power and O&M per sold H100e-hour
    double variable = 0;  // c_var: power and O&M only
};

// The terms of a unit's levelised cost that its chip price does not enter (per month):
// callers that price a family month after month at new chip prices keep them.
struct LevelisedCostTerms {
    double building = 0;    // datacenter capital, USD
    double power = 0;       // USD
    double sold_hours = 0;  // H100e-hours sold at target utilisation
};

// dc_recovery = CRF(dc_life) at the monthly rate of in.wacc.
inline LevelisedCostTerms levelised_cost_terms(const LevelisedCostInputs& in, double dc_recovery) {
    return {in.power_kw / 1000.0 * in.dc_capex_per_mw * dc_recovery, in.power_kw * 730.0 * in.power_usd_per_mwh / 1000.0,
            in.h100e * in.software_factor * 730.0 * in.target_utilisation};
}

// USD per H100e-hour at target utilisation:
// c = [P*CRF(L) + (kW/1000)*capex_mw*CRF(dc_life) + kW*730*power/1000 + om*P/12] / (h100e*sf*730*u)
// chip_recovery = CRF(lifetime) at the monthly rate of the cost of capital.
inline LevelisedCost levelised_cost(const LevelisedCostTerms& terms, double chip_price, double om_rate,
                                    double chip_recovery) {
    const double capital = chip_price * chip_recovery;
    const double upkeep = om_rate * chip_price / 12.0;
    if (terms.sold_hours <= 0) return {INFINITY, INFINITY};
    return {(capital + terms.building + terms.power + upkeep) / terms.sold_hours,
            (terms.power + upkeep) / terms.sold_hours};
}

// chip_recovery = CRF(lifetime), dc_recovery = CRF(dc_life) at the monthly
// rate of in.wacc, passed in by callers that price many families at one rate.
inline LevelisedCost levelised_cost(const LevelisedCostInputs& in, double chip_recovery, double dc_recovery) {
    return levelised_cost(levelised_cost_terms(in, dc_recovery), in.chip_price, in.om_rate, chip_recovery);
}

inline LevelisedCost levelised_cost(const LevelisedCostInputs& in) {
    const double r = monthly_rate(in.wacc);
    return levelised_cost(in, capital_recovery_factor(r, in.lifetime_months),
                          capital_recovery_factor(r, in.dc_life_months));
}

// Backlog-driven chip price for the next step (MODEL.md 5.1):
// p' = clamp(p * exp(kappa * months * (B/q - b_target)) * (1 - age_decay)^years, floor, ceiling),
// with B/q the backlog in months of output (no backlog term when nothing is produced) and
// the age decay applied once a newer family of the vendor ships.
struct BacklogPricing {
    double kappa = 0.05;
    double backlog_target_months = 3;
    double floor = 0;          // unit_cost * (1 + min_margin)
    double ceiling = INFINITY; // list_price * max_multiple
    double age_decay = 0;      // per year, 0 until superseded
};
// `age_pow` keeps the age factor between calls: it changes only with age_decay and the step
// length, and a vendor reprices every superseded family every month.
inline double backlog_price(double price, double backlog_units, double output_per_month, double months_per_step,
                            const BacklogPricing& rule, CachedPow& age_pow) {
    if (output_per_month > 0)
        price *= std::exp(rule.kappa * months_per_step * (backlog_units / output_per_month - rule.backlog_target_months));
    if (rule.age_decay != 0) price *= age_pow(1.0 - rule.age_decay, months_per_step / 12.0);
    // Comparisons rather than fmin/fmax, library calls here. As glibc's, a tie keeps the price
    // (so +0 and -0 stay as they were) and a NaN price clamps to the floor; they differ only
    // for a NaN bound, which a scenario's parameters never give.
    const double floored = price >= rule.floor ? price : rule.floor;
    return floored <= rule.ceiling ? floored : rule.ceiling;
}
inline double backlog_price(double price, double backlog_units, double output_per_month, double months_per_step,
                            const BacklogPricing& rule) {
    CachedPow once;
    return backlog_price(price, backlog_units, output_per_month, months_per_step, rule, once);
}

// ratio^eta for the scarcity exponent: products for the exponents scenarios
// use (1, 1.5 and 2; equal to pow up to rounding, a few instructions instead of
// about a hundred for each tranche of each cloud twice a month), pow otherwise.
inline double scarcity_power(double ratio, double eta) {
    if (eta == 2.0) return ratio * ratio;
    if (eta == 1.5) return ratio * std::sqrt(ratio);
    if (eta == 1.0) return ratio;
    return std::pow(ratio, eta);
}

// The cloud's scarcity-priced spot ask: idle fleets price toward running cost,
// full ones above full cost (MODEL.md 5.2).
// (Comparisons rather than fmax, which is a library call here: they differ only
// for a NaN cost.)
inline double spot_ask(const LevelisedCost& cost, double utilisation, double target_utilisation, double eta) {
    const double ratio = target_utilisation > 0 ? utilisation / target_utilisation : 1.0;
    const double scarce = cost.full * scarcity_power(ratio > 0 ? ratio : 0.0, eta);
    return scarce > cost.variable ? scarce : cost.variable;
}

}  // namespace entangle
