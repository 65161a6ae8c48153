#pragma once
// One replication: set up the world from the frozen scenario, run the monthly
// step (phases in MODEL.md section 4 order), record and check invariants.
#include <string>
#include <vector>

#include "engine/agent_model.hpp"
#include "engine/record.hpp"
#include "engine/world.hpp"

namespace entangle {

// Draws every uncertain parameter of the scenario for one replication.
std::vector<double> draw_uncertain(const Scenario& sc, const StreamKey& key);

// Checks what the engine cannot run (roles of contract parties, features of
// later versions); throws ModelInputError naming every problem.
void check_runnable(const Scenario& sc);

// What the scenario states that the run will never see, one line each: events
// dated after the end, contracts (`contracts:`) over before the start. Valid (a
// shortened run of a longer scenario has them), but a mistyped year looks the same.
std::vector<std::string> scenario_notes(const Scenario& sc);

void init_world(World& w, const Scenario& sc, const StreamKey& key, std::span<const double> drawn);

// The monthly step: each phase a named function, in order.
void step(World& w, const AgentModel& agents, ReplicationRecord* record);

// Runs a whole replication. `record` may be null (output off).
void run_replication(const Scenario& sc, const AgentModel& agents, const StreamKey& key, ReplicationRecord* record);

RecordShape record_shape(const Scenario& sc);

// Engine services the agents call in the invest phase.
void place_chip_order(World& w, RoleIndex cloud, ChipId chip, double units, double unit_price, bool priority);
void start_construction(World& w, RoleIndex cloud, std::uint16_t site, double mw);

// A funding round paid by investors outside the simulated firms.
void raise_outside_funding(World& w, FirmId firm, double usd);
// USD a firm may still borrow.
double borrowing_headroom(const World& w, FirmId firm);
// Price a buyer pays per unit: the vendor's price, or unit cost inside one firm.
// (Inline: the invest and supply phases call these for every family of every cloud.)
inline double chip_price_for(const World& w, FirmId buyer, ChipId chip) {
    const ChipSpec& spec = w.sc().chips[chip];
    return spec.vendor == buyer ? w.param(spec.unit_cost) : w.chips[chip].price;
}
bool may_buy(const Scenario& sc, FirmId buyer, ChipId chip);
// The same, from a table built at set-up.
inline bool may_buy(const World& w, FirmId buyer, ChipId chip) { return w.buyable[buyer * w.chips.size() + chip]; }
// Rebuilds each cloud's `families` list (after `buyable` changes).
void list_cloud_families(World& w);

}  // namespace entangle
