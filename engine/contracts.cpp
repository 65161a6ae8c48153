#include "engine/contracts.hpp"

#include <algorithm>
#include <cmath>

#include "engine/simulation.hpp"
#include "engine/text.hpp"

namespace entangle {
namespace {

const char* status_name(ContractStatus s) {
    switch (s) {
        case ContractStatus::pending: return "pending";
        case ContractStatus::active: return "active";
        case ContractStatus::expired: return "expired";
        case ContractStatus::terminated: return "terminated";
        case ContractStatus::amended: return "amended";
    }
    return "";
}

void log_event(World& w, const char* kind, const std::string& firms, const std::string& text) {
    if (!w.log_events) return;
    w.event_log.push_back(EventRow{format_month(w.month()), kind, firms, text});
}

// `now` and `hours` (of the step) are read once for the whole book.
void deliver_capacity(World& w, ContractState& c, Month now, double hours) {
    const ContractSpec& spec = *c.spec;
    CloudState& seller = w.clouds[w.firms[spec.seller].cloud];
    LabState& buyer = w.labs[w.firms[spec.buyer].lab];
    const double ramp =
        spec.ramp_months > 0 ? std::min(1.0, static_cast<double>(now - spec.start + 1) / spec.ramp_months) : 1.0;
    const double due = spec.quantity_h100e * ramp;
    const double spare = std::max(seller.capacity_general - seller.obligations, 0.0);
    const double delivered = std::min(due, spare);  // the book is in service order
    seller.obligations += delivered;
    buyer.held += delivered;
    w.flow_at(spec.seller, spec.buyer) += delivered;
    const double payment = delivered * spec.price_usd_per_h100e_hour * hours;
    const double credit = (due - delivered) * spec.price_usd_per_h100e_hour * hours * spec.sla_credit;
    pay_for_compute(w, spec.buyer, spec.seller, payment);
    // SLA credit only for a shortfall: most months deliver in full, and a zero transfer changes
    // no balance (x - 0 and x + 0 are x, bar the sign of a zero balance).
    if (credit > 0) transfer(w, spec.seller, spec.buyer, credit);
    w.firms[spec.seller].revenue += payment - credit;
    buyer.compute_spend += payment - credit;
    c.delivered_this_step = delivered;
    c.delivered_total += delivered;
    c.paid_total += payment - credit;
}

void pay_licence_fee(World& w, ContractState& c) {
    const ContractSpec& spec = *c.spec;
    const double fee = spec.fee_usd_per_year * w.years_per_step();
    transfer(w, spec.buyer, spec.seller, fee);
    w.firms[spec.seller].revenue += fee;
    c.paid_total += fee;
}

// Units due this month join the vendor's orders as priority orders.
void order_contracted_chips(World& w, ContractState& c) {
    const ContractSpec& spec = *c.spec;
    const double units = spec.units_per_month * w.sc().months_per_step;
    place_chip_order(w, w.firms[spec.buyer].cloud, spec.chip, units, spec.unit_price, true);
    c.delivered_total += units;  // ordered; shipment follows the vendor's output
    c.paid_total += units * spec.unit_price;
}

// New shares dilute every holder of the investee by `factor` (pre / post-money).
void dilute(World& w, FirmId investee, double factor) {
    const std::size_t n = w.n_firms();
    for (std::size_t holder = 0; holder < n; ++holder) w.equity[holder * n + investee] *= factor;
}

// The investor pays for its new shares: in cash, or in kind as capacity
// credits with its cloud (no cash moves now; the investee's later purchases
// from the investor draw on them), as in cloud-credit deals.
void pay_in(World& w, FirmId investee, FirmId investor, double usd, bool in_kind) {
    if (in_kind) w.credits[investee * w.n_firms() + investor] += usd;
    else transfer(w, investor, investee, usd);
}

// The investor pays and takes a stake: the stated share, or value / post-money.
// Other holders are diluted in proportion.
void invest(World& w, ContractState& c) {
    const ContractSpec& spec = *c.spec;
    const FirmId investee = spec.seller, investor = spec.buyer;
    double stake = spec.share;
    if (stake <= 0) {
        const RoleIndex lab = w.firms[investee].lab;
        const double pre_money = lab != no_role ? std::max(w.labs[lab].valuation,
                                                           w.param(w.sc().firms[investee].lab->valuation_floor))
                                                : 0.0;
        stake = pre_money + spec.value_usd > 0 ? spec.value_usd / (pre_money + spec.value_usd) : 0.0;
    }
    dilute(w, investee, 1.0 - stake);
    w.equity[investor * w.n_firms() + investee] += stake;
    pay_in(w, investee, investor, spec.value_usd, spec.in_kind);
    c.paid_total += spec.value_usd;
    if (!w.log_events) return;  // the text costs more than the investment: only when it is recorded
    log_event(w, "invest", w.sc().firms[investor].name + "," + w.sc().firms[investee].name,
              spec.id + ": " + std::to_string(spec.value_usd / 1e9) + " B USD for " + std::to_string(stake * 100) +
                  "%" + (spec.in_kind ? " (in kind)" : ""));
}

// An ended contract leaves the lists the monthly scans walk besides `live`: its parties' lists
// of capacity, or the finance phase's (the order of the rest, and so of their sums, is kept).
void forget_ended(World& w, World::ContractIndex& index, const ContractSpec& ended) {
    const auto gone = [&](const World::CapacityTerms& terms) { return !w.contracts[terms.position].live(); };
    if (ended.kind == ContractKind::capacity) {
        std::erase_if(index.capacity_by_seller[ended.seller], gone);
        std::erase_if(index.capacity_by_buyer[ended.buyer], gone);
    } else if (ended.kind == ContractKind::revenue_share || ended.kind == ContractKind::commitment) {
        std::erase_if(index.settled_monthly, [&](std::uint32_t position) { return !w.contracts[position].live(); });
    }
}

void activate(World& w, ContractState& c) {
    c.status = ContractStatus::active;
    if (c.spec->kind == ContractKind::equity) {
        invest(w, c);
        c.status = ContractStatus::expired;
        c.end_reason = "settled";
    }
}

}  // namespace

void raise_funding_round(World& w, RoleIndex l, double pre_money, double round) {
    LabState& lab = w.labs[l];
    const LabRole& role = *w.sc().firms[lab.firm].lab;
    const double post_money = pre_money + round;
    if (round <= 0 || post_money <= 0) return;
    dilute(w, lab.firm, pre_money / post_money);
    double left = round;
    std::string takers;
    for (std::size_t i = 0; i < role.investors.size(); ++i) {
        const StrategicInvestor& investor = role.investors[i];
        const double take = std::min(left, lab.investor_budget_left[i]);
        if (take <= 0) continue;
        w.equity[investor.firm * w.n_firms() + lab.firm] += take / post_money;
        pay_in(w, lab.firm, investor.firm, take, investor.in_kind);
        lab.investor_budget_left[i] -= take;
        left -= take;
        if (!w.log_events) continue;
        takers += (takers.empty() ? "" : ", ") + format_text("%s %.2f B%s", w.sc().firms[investor.firm].name,
                                                             take / 1e9, investor.in_kind ? " in kind" : "");
    }
    if (left > 0) {
        // Outside investors: money from outside the modelled firms (their shares are not tracked).
        raise_outside_funding(w, lab.firm, left);
    }
    if (!w.log_events) return;  // a round every few months per lab: text only when it is recorded
    log_event(w, "funding_round", w.sc().firms[lab.firm].name,
              format_text("%.2f B USD at %.1f B pre-money (outside %.2f B%s%s)", round / 1e9, pre_money / 1e9,
                          left / 1e9, takers.empty() ? "" : "; ", takers));
}

const char* contract_kind_name(ContractKind kind) {
    switch (kind) {
        case ContractKind::capacity: return "capacity";
        case ContractKind::chip_supply: return "chip_supply";
        case ContractKind::commitment: return "commitment";
        case ContractKind::licence: return "licence";
        case ContractKind::revenue_share: return "revenue_share";
        case ContractKind::equity: return "equity";
    }
    return "";
}

void init_contracts(World& w) {
    const Scenario& sc = w.sc();
    w.contracts.clear();
    w.contracts_reordered();
    const auto add = [&](const ContractSpec& spec, Month known_from) {
        ContractState& c = w.contracts.emplace_back();
        c.spec = &spec;
        c.signed_at = known_from;
        c.exclusive = spec.exclusive;
        c.rofr = spec.rofr;
    };
    for (const ContractSpec& spec : sc.contracts) add(spec, spec.signed_at);
    for (const EventSpec& e : sc.events)
        if (e.enabled && e.contract && (e.kind == EventKind::sign || e.kind == EventKind::invest)) add(*e.contract, e.at);
    std::stable_sort(w.contracts.begin(), w.contracts.end(), [](const ContractState& a, const ContractState& b) {
        if (a.exclusive != b.exclusive) return a.exclusive;
        return a.spec->start < b.spec->start;
    });
}

void count_toward_commitments(World& w, FirmId buyer, FirmId seller, double usd) {
    for (std::uint32_t position : w.indexed_contracts().commitments_by_buyer[buyer]) {
        ContractState& c = w.contracts[position];
        if (c.status == ContractStatus::active && c.spec->seller == seller) c.spent += usd;
    }
}

void end_contract(ContractState& c, ContractStatus status, const char* reason, const std::string& by) {
    c.status = status;
    c.end_reason = reason;
    c.ended_by = by;
}

void run_contracts(World& w) {
    const Month now = w.month();
    const double hours = w.hours_per_step();
    World::ContractIndex& index = w.indexed_contracts();
    std::vector<std::uint32_t>& live = index.live;
    for (std::uint32_t position : live) {
        ContractState& c = w.contracts[position];
        const ContractSpec& spec = *c.spec;
        if (c.status == ContractStatus::pending && spec.start <= now && c.signed_at <= now) activate(w, c);
        if (c.status == ContractStatus::active && spec.end < now) end_contract(c, ContractStatus::expired, "term");
        c.delivered_this_step = 0;
        if (c.status != ContractStatus::active) continue;
        switch (spec.kind) {
            case ContractKind::capacity: deliver_capacity(w, c, now, hours); break;
            case ContractKind::licence: pay_licence_fee(w, c); break;
            case ContractKind::chip_supply: order_contracted_chips(w, c); break;
            case ContractKind::commitment:
            case ContractKind::revenue_share:
            case ContractKind::equity: break;  // settled in the finance phase, or once at activation
        }
    }
    // Contracts that ended since the last phase (here or elsewhere) had this step's delivery
    // reset above; they need no more visits (remove_if tests each once, in order).
    std::erase_if(live, [&](std::uint32_t position) {
        const ContractState& c = w.contracts[position];
        if (c.live()) return false;
        forget_ended(w, index, *c.spec);
        return true;
    });
    update_licensed_capability(w);
}

void settle_contracts(World& w) {
    const Month now = w.month();
    for (std::uint32_t position : w.indexed_contracts().settled_monthly) {
        ContractState& c = w.contracts[position];
        if (c.status != ContractStatus::active) continue;
        const ContractSpec& spec = *c.spec;
        if (spec.kind == ContractKind::revenue_share) {
            const RoleIndex lab = w.firms[spec.buyer].lab;
            const double revenue = lab != no_role ? w.labs[lab].revenue_served : w.firms[spec.buyer].revenue;
            const double payment = spec.share * std::max(revenue, 0.0);
            transfer(w, spec.buyer, spec.seller, payment);
            w.firms[spec.seller].revenue += payment;
            c.paid_total += payment;
        }
        if (spec.kind == ContractKind::commitment && spec.end <= now) {
            // Take-or-pay: the buyer pays the agreed share of what it did not spend.
            const double shortfall = std::max(spec.value_usd - c.spent, 0.0);
            const double penalty = spec.take_or_pay * shortfall;
            transfer(w, spec.buyer, spec.seller, penalty);
            w.firms[spec.seller].revenue += penalty;
            c.paid_total += penalty;
            end_contract(c, ContractStatus::expired, "term");
            if (penalty > 0)
                log_event(w, "take_or_pay", w.sc().firms[spec.buyer].name + "," + w.sc().firms[spec.seller].name,
                          spec.id + ": shortfall " + std::to_string(shortfall / 1e9) + " B USD, paid " +
                              std::to_string(penalty / 1e9) + " B USD");
        }
    }
}

void end_until_agi_contracts(World& w, FirmId lab) {
    for (ContractState& c : w.contracts) {
        const ContractSpec& spec = *c.spec;
        if (!spec.until_agi || !c.live()) continue;
        const bool party = spec.kind == ContractKind::licence         ? spec.seller == lab
                           : spec.kind == ContractKind::revenue_share ? spec.buyer == lab
                                                                      : spec.seller == lab || spec.buyer == lab;
        if (!party) continue;
        end_contract(c, ContractStatus::terminated, "agi");
        log_event(w, "contract_end", w.sc().firms[spec.seller].name + "," + w.sc().firms[spec.buyer].name,
                  spec.id + " ends: the AGI panel verified " + w.sc().firms[lab].name);
    }
}

void World::extend_contract_index() const {
    ContractIndex& index = contract_index;
    const std::size_t n = firms.size();
    if (index.built_for > contracts.size()) {
        index.commitments.assign(n * n, 0);
        index.exclusive.assign(n, 0);
        index.capacity_by_seller.resize(n);
        index.capacity_by_buyer.resize(n);
        index.commitments_by_buyer.resize(n);
        index.rofr_by_buyer.resize(n);
        for (auto& list : index.capacity_by_seller) list.clear();
        for (auto& list : index.capacity_by_buyer) list.clear();
        for (auto& list : index.commitments_by_buyer) list.clear();
        for (auto& list : index.rofr_by_buyer) list.clear();
        index.licences.clear();
        index.live.clear();
        index.settled_monthly.clear();
        index.built_for = 0;
    }
    for (std::size_t i = index.built_for; i < contracts.size(); ++i) {
        const ContractState& c = contracts[i];
        const ContractSpec& s = *c.spec;
        if (c.live()) index.live.push_back(static_cast<std::uint32_t>(i));
        if (c.live() && (s.kind == ContractKind::revenue_share || s.kind == ContractKind::commitment))
            index.settled_monthly.push_back(static_cast<std::uint32_t>(i));
        if (s.kind == ContractKind::commitment) {
            ++index.commitments[s.buyer * n + s.seller];
            index.commitments_by_buyer[s.buyer].push_back(static_cast<std::uint32_t>(i));
        }
        if (c.rofr) index.rofr_by_buyer[s.buyer].push_back(static_cast<std::uint32_t>(i));
        if (s.kind == ContractKind::licence) index.licences.push_back(static_cast<std::uint32_t>(i));
        if (s.kind != ContractKind::capacity) continue;
        if (c.exclusive) ++index.exclusive[s.buyer];
        if (!c.live()) continue;  // counts toward nothing any more
        const CapacityTerms terms{static_cast<std::uint32_t>(i), c.signed_at, s.start, s.end, s.quantity_h100e};
        index.capacity_by_seller[s.seller].push_back(terms);
        index.capacity_by_buyer[s.buyer].push_back(terms);
    }
    index.built_for = contracts.size();
}

double capacity_under_contract(const World& w, FirmId firm, Month at, ContractSide side) {
    const World::ContractIndex& index = w.indexed_contracts();
    const std::vector<World::CapacityTerms>& listed =
        (side == ContractSide::sold ? index.capacity_by_seller : index.capacity_by_buyer)[firm];
    const Month now = w.month();
    double total = 0;
    for (const World::CapacityTerms& terms : listed)
        if (terms.signed_at <= now && terms.start <= at && at <= terms.end && w.contracts[terms.position].live())
            total += terms.quantity_h100e;
    return total;
}

FirmId exclusive_holder(const World& w, FirmId lab_firm) {
    const World::ContractIndex& index = w.indexed_contracts();
    if (index.exclusive[lab_firm] == 0) return no_firm;
    for (const World::CapacityTerms& terms : index.capacity_by_buyer[lab_firm])
        if (const ContractState& c = w.contracts[terms.position]; c.status == ContractStatus::active && c.exclusive)
            return c.spec->seller;
    return no_firm;
}

void update_licensed_capability(World& w) {
    for (LabState& lab : w.labs) lab.licensed_capability = 0;
    for (std::uint32_t position : w.indexed_contracts().licences) {
        const ContractState& c = w.contracts[position];
        if (c.status != ContractStatus::active) continue;
        const RoleIndex licensee = w.firms[c.spec->buyer].lab, licensor = w.firms[c.spec->seller].lab;
        if (licensee == no_role || licensor == no_role) continue;
        w.labs[licensee].licensed_capability =
            std::max(w.labs[licensee].licensed_capability, w.labs[licensor].capability);
    }
}

// Nominal value of a contract over its term (revenue shares: what was paid).
double nominal_value(const ContractState& c) {
    const ContractSpec& s = *c.spec;
    const double months = static_cast<double>(s.end - s.start + 1);
    switch (s.kind) {
        case ContractKind::capacity: return s.quantity_h100e * s.price_usd_per_h100e_hour * hours_per_month * months;
        case ContractKind::chip_supply: return s.units_per_month * s.unit_price * months;
        case ContractKind::licence: return s.fee_usd_per_year * months / 12.0;
        case ContractKind::commitment:
        case ContractKind::equity: return s.value_usd;
        case ContractKind::revenue_share: return c.paid_total;
    }
    return 0;
}

std::vector<ContractRow> contract_rows(const World& w) {
    const Scenario& sc = w.sc();
    std::vector<ContractRow> rows;
    rows.reserve(w.contracts.size());
    for (const ContractState& c : w.contracts) {
        const ContractSpec& s = *c.spec;
        std::string reason = c.end_reason;
        if (!c.ended_by.empty()) reason += ":" + c.ended_by;
        rows.push_back(ContractRow{s.id, contract_kind_name(s.kind), sc.firms[s.seller].name, sc.firms[s.buyer].name,
                                   format_month(c.signed_at), format_month(s.start), format_month(s.end),
                                   s.quantity_h100e, s.price_usd_per_h100e_hour, nominal_value(c), c.exclusive, c.rofr,
                                   s.until_agi, status_name(c.status), reason});
    }
    return rows;
}

}  // namespace entangle
