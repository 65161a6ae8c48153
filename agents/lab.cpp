// Lab behaviour (MODEL.md 5.3): need, willingness to pay, use, funding.
#include <algorithm>
#include <cmath>

#include "agents/standard_model.hpp"
#include "engine/contracts.hpp"
#include "engine/simulation.hpp"

namespace entangle::agents {

void StandardModel::lab_plan(World& w, RoleIndex l) const {
    LabState& lab = w.labs[l];
    const LabRole& role = *w.sc().firms[lab.firm].lab;
    if (w.step > 0)
        lab.training_index *=
            role.training_growth.power_at(w.step, w.drawn, 0.0, w.years_per_step(), lab.training_growth_pow);
    const double gap = std::clamp(w.frontier - lab.capability, 0.0, w.param(role.max_catch_up));
    lab.need_training = w.param(role.train0_h100e) * lab.training_index * (1.0 + w.param(role.catch_up) * gap);
    // Inference need serves the revenue its share of the market would bring.
    const double rho = w.param(w.sc().market.rho_usd_per_h100e_hour);
    lab.need_inference = lab.revenue_potential / (rho * w.hours_per_step());

    const double value = w.param(role.strategic_value) * (1.0 + w.param(role.urgency) * lab.unmet_share);
    // MODEL.md's affordability (cash + funding capacity + expected revenue over
    // the term) / (Q * hours), with the term its runway: it spreads its means
    // over the months it plans to last.
    const double term_months = std::max(w.param(role.runway_months), 1.0);
    const double revenue_per_month = lab.revenue_served / w.sc().months_per_step;
    const double means = std::max(w.account(lab.firm).cash, 0.0) + w.param(role.funding_capacity) +
                         revenue_per_month * term_months;
    // Affordability caps what it spends, not the price of the first unit: at
    // price p it buys at most spend_limit / (p * hours) (the engine bids this
    // demand curve). When that binds on the whole need, the marginal price is
    // exactly MODEL.md's affordability.
    lab.spend_limit = means / term_months * w.sc().months_per_step;
    lab.bid_training = std::max(value, 0.0);
    // Inference compute is worth no more than the revenue it serves.
    lab.bid_inference = std::min(lab.bid_training, rho);
}

void StandardModel::lab_use(World& w, RoleIndex l) const {
    LabState& lab = w.labs[l];
    const LabRole& role = *w.sc().firms[lab.firm].lab;
    // Inference-only capacity cannot train.
    const double trainable = lab.held - lab.held_inference_only;
    lab.compute_training = std::min(w.param(role.train_share) * lab.held, trainable);
    lab.compute_inference = lab.held - lab.compute_training;
    const double need = lab.need_training + lab.need_inference;
    lab.unmet_share = need > 0 ? std::clamp((need - lab.held) / need, 0.0, 1.0) : 0.0;
}

void StandardModel::lab_finance(World& w, RoleIndex l) const {
    LabState& lab = w.labs[l];
    const LabRole& role = *w.sc().firms[lab.firm].lab;
    const FirmState& account = w.account(lab.firm);
    const double months = w.sc().months_per_step;
    const double burn =
        (lab.compute_spend + w.param(role.opex_usd_per_month) * months - lab.revenue_served) / months;
    lab.burn_ewma = w.step == 0 ? burn : 0.3 * burn + 0.7 * lab.burn_ewma;

    const double annual_revenue = lab.revenue_served / w.years_per_step();
    lab.valuation = std::max(w.param(role.valuation_floor),
                             w.param(role.revenue_multiple) * annual_revenue *
                                 std::exp(w.param(role.psi) * (lab.capability - w.frontier)));

    const int cooldown_steps = (role.funding_cooldown_months + w.sc().months_per_step - 1) / w.sc().months_per_step;
    const bool short_of_runway = lab.burn_ewma > 0 && account.cash < w.param(role.runway_months) * lab.burn_ewma;
    // An acquired lab is funded by its owner's account, not by rounds of its own.
    const bool independent = w.treasury[lab.firm] == lab.firm;
    if (independent && short_of_runway && w.step - lab.last_round_step >= cooldown_steps) {
        raise_funding_round(w, l, lab.valuation, w.param(role.raise_fraction) * lab.valuation);
        lab.last_round_step = w.step;
    }
}

}  // namespace entangle::agents
