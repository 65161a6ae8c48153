#include "engine/events.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/contracts.hpp"
#include "engine/rng.hpp"
#include "engine/simulation.hpp"
#include "engine/text.hpp"

namespace entangle {
namespace {

void verify_agi(World& w, LabState& lab, const std::string& how) {
    if (lab.agi_verified) return;
    lab.agi_verified = true;
    w.event_log.push_back(EventRow{format_month(w.month()), "agi_verified", w.sc().firms[lab.firm].name, how});
    end_until_agi_contracts(w, lab.firm);
}

// The version of a contract in force or waiting (an amended contract has
// several versions under one id; only the latest is live).
ContractState* find_live_contract(World& w, const std::string& id) {
    for (ContractState& c : w.contracts)
        if (c.spec->id == id && c.live()) return &c;
    return nullptr;
}

bool forbid_in_force(const EventSpec& e, Month now) {
    return e.enabled && e.kind == EventKind::forbid && e.at <= now && (e.until == Month{} || now <= e.until);
}

// The forbid event in force this month that bars the pair, if any.
const EventSpec* forbidding_event(const World& w, FirmId a, FirmId b) {
    const Month now = w.month();
    for (const EventSpec& e : w.sc().events)
        if (forbid_in_force(e, now) && std::ranges::find(e.firms, a) != e.firms.end() &&
            std::ranges::find(e.firms, b) != e.firms.end())
            return &e;
    return nullptr;
}

// Rebuilds the forbidden-pair matrix for this month, and the chip families
// each firm may buy (a cloud may not order from a vendor it is barred from).
void update_forbidden_pairs(World& w) {
    if (w.forbidden.empty()) return;
    const Scenario& sc = w.sc();
    const Month now = w.month();
    const std::size_t n = w.n_firms();
    // Rebuilt only in a month where some ban starts or ends.
    if (w.step > 0) {
        const Month before = sc.month_of_step(w.step - 1);
        if (std::ranges::none_of(sc.events, [&](const EventSpec& e) {
                return forbid_in_force(e, now) != forbid_in_force(e, before);
            }))
            return;
    }
    std::ranges::fill(w.forbidden, std::uint8_t{0});
    w.any_forbidden = false;
    for (const EventSpec& e : sc.events) {
        if (!forbid_in_force(e, now)) continue;
        for (FirmId a : e.firms)
            for (FirmId b : e.firms)
                if (a != b) w.forbidden[a * n + b] = 1;
        w.any_forbidden = true;
    }
    const std::size_t chips = sc.chips.size();
    for (FirmId f = 0; f < n; ++f)
        for (ChipId c = 0; c < chips; ++c)
            w.buyable[f * chips + c] = may_buy(sc, f, c) && !w.forbidden_pair(f, sc.chips[c].vendor);
    list_cloud_families(w);
}

std::string pair_names(const World& w, FirmId a, FirmId b) {
    return w.sc().firms[a].name + "," + w.sc().firms[b].name;
}

// A contract announced this month between a barred pair is never signed.
void block_if_forbidden(World& w, const EventSpec& e, const std::string& text) {
    const ContractSpec& spec = *e.contract;
    const EventSpec* forbid = forbidding_event(w, spec.seller, spec.buyer);
    if (!forbid) return;
    for (ContractState& c : w.contracts)
        if (c.spec == &spec && c.live()) end_contract(c, ContractStatus::terminated, "forbidden", forbid->id);
    w.event_log.push_back(EventRow{format_month(w.month()), "blocked", pair_names(w, spec.seller, spec.buyer),
                                   text + " (not signed: " + forbid->id + " forbids the pair)"});
}

// The new version of an amended contract: the old terms with the changed keys.
void apply_changes(ContractSpec& spec, const ContractSpec& changes, std::span<const std::string> keys) {
    for (const std::string& key : keys) {
        if (key == "end") spec.end = changes.end;
        else if (key == "quantity_h100e") spec.quantity_h100e = changes.quantity_h100e;
        else if (key == "price_usd_per_h100e_hour") spec.price_usd_per_h100e_hour = changes.price_usd_per_h100e_hour;
        else if (key == "units_per_month") spec.units_per_month = changes.units_per_month;
        else if (key == "unit_price") spec.unit_price = changes.unit_price;
        else if (key == "value_usd") spec.value_usd = changes.value_usd;
        else if (key == "fee_usd_per_year") spec.fee_usd_per_year = changes.fee_usd_per_year;
        else if (key == "share") spec.share = changes.share;
        else if (key == "exclusive") spec.exclusive = changes.exclusive;
        else if (key == "rofr") spec.rofr = changes.rofr;
        else if (key == "until_agi") spec.until_agi = changes.until_agi;
        else if (key == "waivable") spec.waivable = changes.waivable;
        else if (key == "sla_credit") spec.sla_credit = changes.sla_credit;
        else if (key == "take_or_pay") spec.take_or_pay = changes.take_or_pay;
    }
}

// The live version ends with status `amended`; a new version with the same id
// and start carries on from this month with the changed terms (a commitment
// keeps what was spent under it). Both are rows of the contracts table.
void amend(World& w, const EventSpec& e, const std::string& text) {
    const Month now = w.month();
    ContractState* old = find_live_contract(w, e.target);
    if (!old) {
        w.event_log.push_back(EventRow{format_month(now), "amend_ignored", "",
                                       text + " (contract " + e.target + " is not in force)"});
        return;
    }
    ContractSpec& spec = w.signed_specs.emplace_back(*old->spec);
    apply_changes(spec, e.changes, e.changed_keys);
    const bool was_pending = old->status == ContractStatus::pending;
    ContractState next;
    next.spec = &spec;
    next.signed_at = std::max(old->signed_at, now);
    next.status = was_pending ? ContractStatus::pending : ContractStatus::active;
    next.spent = old->spent;
    // Clauses given up by a waiver stay given up unless the amendment restores them.
    const auto changed = [&](std::string_view key) { return std::ranges::find(e.changed_keys, key) != e.changed_keys.end(); };
    next.exclusive = changed("exclusive") ? spec.exclusive : old->exclusive;
    next.rofr = changed("rofr") ? spec.rofr : old->rofr;
    end_contract(*old, ContractStatus::amended, "amended", e.id);
    const std::string firms = pair_names(w, spec.seller, spec.buyer);
    const std::ptrdiff_t at = old - w.contracts.data();
    if (spec.end < now || spec.end < spec.start) {
        w.event_log.push_back(EventRow{format_month(now), "amend", firms, text + " (ends it now)"});
        return;
    }
    // Right after the old version, so the book keeps its service order.
    w.contracts.insert(w.contracts.begin() + at + 1, next);
    w.contracts_reordered();
    w.event_log.push_back(EventRow{format_month(now), "amend", firms, text});
}

// The acquirer pays the price to the target's owners (modelled holders by
// their stakes; the rest leaves the system), takes its cash and debt into its
// own account and holds all of it. The target's roles keep operating under its
// name, their money flowing through the acquirer's account from now on.
void acquire(World& w, const EventSpec& e, const std::string& text) {
    const FirmId acquirer = e.firms[0], target = e.firms[1];
    const std::size_t n = w.n_firms();
    const Month now = w.month();
    if (w.treasury[target] != target || w.treasury[acquirer] == target) {
        w.event_log.push_back(EventRow{format_month(now), "acquire_ignored", pair_names(w, acquirer, target),
                                       text + " (the target is already owned by another firm)"});
        return;
    }
    double held_inside = 0;
    for (FirmId holder = 0; holder < n; ++holder) {
        const double stake = w.equity[holder * n + target];
        if (stake <= 0) continue;
        transfer(w, acquirer, holder, stake * e.value);
        held_inside += stake;
        w.equity[holder * n + target] = 0;
    }
    const double outside = std::max(1.0 - held_inside, 0.0) * e.value;
    w.account(acquirer).cash -= outside;
    w.external.acquisitions += outside;
    w.equity[acquirer * n + target] = 1.0;
    FirmState& seller_books = w.firms[target];
    FirmState& buyer_books = w.account(acquirer);
    buyer_books.cash += seller_books.cash;
    buyer_books.debt += seller_books.debt;
    seller_books.cash = seller_books.debt = 0;
    const FirmId root = w.treasury[acquirer];
    for (FirmId& t : w.treasury)
        if (t == target) t = root;
    w.event_log.push_back(EventRow{format_month(now), "acquire", pair_names(w, acquirer, target),
                                   text + format_text(" (%.2f B USD, %.2f B of it to modelled holders)", e.value / 1e9,
                                                      (e.value - outside) / 1e9)});
}

}  // namespace


void apply_events(World& w) {
    const Month now = w.month();
    update_forbidden_pairs(w);
    const std::vector<EventSpec>& events = w.sc().events;
    const std::vector<std::uint32_t>& by_month = w.events_by_month;
    std::size_t& next = w.next_event;
    // Every event dated up to this step's month happens now, once: an event dated
    // between two steps (a quarterly run) at the first step after it, as dated
    // parameter changes do (scenario/build.cpp); one dated before the start at the
    // first step, since by then it has happened (a run starting in 2026 has the deals
    // of 2024 in force). Events after the end never happen (docs/scenarios.md).
    for (; next < by_month.size() && events[by_month[next]].at <= now; ++next) {
        const EventSpec& e = events[by_month[next]];
        // Event text is for the results only.
        const std::string text = !w.log_events ? std::string() : e.text.empty() ? e.id : e.id + ": " + e.text;
        switch (e.kind) {
            case EventKind::sign:
            case EventKind::invest: {
                const ContractSpec& c = *e.contract;
                if (e.kind == EventKind::sign && c.end < w.sc().start) break;  // over before the run began: no trace in it
                if (w.forbidden_pair(c.seller, c.buyer)) {
                    block_if_forbidden(w, e, text);
                    break;
                }
                if (w.log_events)
                    w.event_log.push_back(EventRow{format_month(now), e.kind == EventKind::sign ? "sign" : "invest_signed",
                                                   pair_names(w, c.seller, c.buyer), text});
                break;
            }
            case EventKind::terminate: {
                ContractState* c = find_live_contract(w, e.target);
                if (c) {
                    end_contract(*c, ContractStatus::terminated, "terminated", e.id);
                    w.event_log.push_back(EventRow{format_month(now), "terminate",
                                                   w.sc().firms[c->spec->seller].name + "," +
                                                       w.sc().firms[c->spec->buyer].name,
                                                   text});
                }
                break;
            }
            case EventKind::declare_agi:
                for (FirmId f : e.firms)
                    if (w.firms[f].lab != no_role) verify_agi(w, w.labs[w.firms[f].lab], "declared by event " + e.id);
                if (e.firms.empty()) w.event_log.push_back(EventRow{format_month(now), "declare_agi", "", text});
                break;
            case EventKind::set:
            case EventKind::scale:
            case EventKind::shock: {
                // The change itself was baked into the parameter when the scenario was frozen.
                if (!w.log_events) break;
                char change[160];
                std::snprintf(change, sizeof change, "%s %s %g", e.target.c_str(),
                              e.kind == EventKind::set ? "set to" : "multiplied by", e.value);
                w.event_log.push_back(EventRow{format_month(now),
                                               e.kind == EventKind::set     ? "set"
                                               : e.kind == EventKind::scale ? "scale"
                                                                            : "shock",
                                               "", e.text.empty() ? e.id + ": " + change : e.id + ": " + e.text + " (" + change + ")"});
                break;
            }
            case EventKind::forbid: {
                if (!w.log_events) break;
                std::string firms;
                for (FirmId f : e.firms) firms += (firms.empty() ? "" : ",") + w.sc().firms[f].name;
                w.event_log.push_back(EventRow{format_month(now), "forbid", firms,
                                               text + " (until " + (e.until == Month{} ? std::string("the end") : format_month(e.until)) + ")"});
                break;
            }
            case EventKind::amend: amend(w, e, text); break;
            case EventKind::acquire: acquire(w, e, text); break;
        }
    }
}

void run_agi_panel(World& w) {
    const AgiSpec& agi = w.sc().agi;
    const double threshold = w.param(agi.threshold);
    const double hazard = w.param(agi.monthly_hazard);
    // The hazard is usually constant: the cached power skips pow month after month.
    const double per_step = 1.0 - w.agi_survival_pow(1.0 - hazard, w.sc().months_per_step);
    for (LabState& lab : w.labs) {
        if (lab.agi_verified || lab.capability <= threshold) continue;
        // One draw a month from the lab's own stream: other labs' draws never shift.
        if (draw_uniform01(lab.agi_stream) < per_step) verify_agi(w, lab, "verified by the panel");
    }
}

}  // namespace entangle
