#include "engine/events.hpp"

#include "engine/contracts.hpp"
#include <cmath>
#include <cstdio>

#include "engine/rng.hpp"

namespace entangle {
namespace {

void verify_agi(World& w, LabState& lab, const std::string& how) {
    if (lab.agi_verified) return;
    lab.agi_verified = true;
    w.event_log.push_back(EventRow{format_month(w.month()), "agi_verified", w.sc().firms[lab.firm].name, how});
    end_until_agi_contracts(w, lab.firm);
}

ContractState* find_contract(World& w, const std::string& id) {
    for (ContractState& c : w.contracts)
        if (c.spec->id == id) return &c;
    return nullptr;
}

}  // namespace

bool event_simulated(EventKind kind) {
    return kind == EventKind::sign || kind == EventKind::invest || kind == EventKind::terminate ||
           kind == EventKind::declare_agi || kind == EventKind::set || kind == EventKind::scale ||
           kind == EventKind::shock;
}

void apply_events(World& w) {
    const Month now = w.month();
    for (const EventSpec& e : w.sc().events) {
        if (!e.enabled || e.at != now) continue;
        const std::string text = e.text.empty() ? e.id : e.id + ": " + e.text;
        switch (e.kind) {
            case EventKind::sign:
            case EventKind::invest: {
                const ContractSpec& c = *e.contract;
                w.event_log.push_back(EventRow{format_month(now), e.kind == EventKind::sign ? "sign" : "invest_signed",
                                               w.sc().firms[c.seller].name + "," + w.sc().firms[c.buyer].name, text});
                break;
            }
            case EventKind::terminate: {
                ContractState* c = find_contract(w, e.target);
                if (c && (c->status == ContractStatus::active || c->status == ContractStatus::pending)) {
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
            default: break;  // refused before step 0 by check_runnable
        }
    }
}

void run_agi_panel(World& w) {
    const AgiSpec& agi = w.sc().agi;
    const double threshold = w.param(agi.threshold);
    const double hazard = w.param(agi.monthly_hazard);
    const double per_step = 1.0 - std::pow(1.0 - hazard, w.sc().months_per_step);
    for (LabState& lab : w.labs) {
        if (lab.agi_verified || lab.capability <= threshold) continue;
        // One draw a month from the lab's own stream: other labs' draws never shift.
        if (draw_uniform01(lab.agi_stream) < per_step) verify_agi(w, lab, "verified by the panel");
    }
}

}  // namespace entangle
