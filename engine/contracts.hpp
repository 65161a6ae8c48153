#pragma once
// The contract book (MODEL.md 6): every contract of a replication, from the
// scenario and from sign/invest events, with what flows under it each month.
// Every payment goes from one firm to another and every H100e is recorded in
// the flow matrix, so the invariants of section 10 keep holding.
#include <algorithm>
#include <string>
#include <vector>

#include "engine/record.hpp"
#include "engine/world.hpp"

namespace entangle {

// The book at the start: pending contracts, in service order (exclusive
// capacity first, then by start date).
void init_contracts(World& w);

// Phase 3: activate what starts, expire what ended, deliver capacity, pay
// licence fees, order contracted chips, make equity investments.
void run_contracts(World& w);

// Phase 8: revenue shares on this month's revenue; commitments ending this
// month settle their take-or-pay shortfall.
void settle_contracts(World& w);

// Counts spend of `usd` toward the buyer's active commitment contracts with the seller.
void count_toward_commitments(World& w, FirmId buyer, FirmId seller, double usd);

// A payment for compute from buyer to seller: in-kind credits the buyer holds
// with the seller are used first; all of it counts toward their commitments.
// (Inline: every spot trade pays through it, and most pairs have no commitment.)
// `contracts` is w.indexed_contracts(), which the spot market, paying pair by
// pair, looks up once per clearing.
inline void pay_for_compute(World& w, const World::ContractIndex& contracts, FirmId buyer, FirmId seller, double usd) {
    if (buyer == seller || usd <= 0) return;
    double& credit = w.credits[buyer * w.n_firms() + seller];
    const double from_credit = std::min(credit, usd);
    credit -= from_credit;
    transfer(w, buyer, seller, usd - from_credit);
    if (contracts.commitments[buyer * w.n_firms() + seller] != 0) count_toward_commitments(w, buyer, seller, usd);
}
inline void pay_for_compute(World& w, FirmId buyer, FirmId seller, double usd) {
    pay_for_compute(w, w.indexed_contracts(), buyer, seller, usd);
}

// Ends a contract now with a status and reason (and the event that ended it).
void end_contract(ContractState& contract, ContractStatus status, const char* reason, const std::string& by = {});

// A lab's funding round of `round` USD at `pre_money` (MODEL.md 5.3): its
// strategic investors take up to their remaining budgets in order, outside
// money the rest; every existing holder is diluted by pre / post-money.
void raise_funding_round(World& w, RoleIndex lab, double pre_money, double round);

// The AGI panel verified `lab`: its until_agi contracts as licensor or payer end.
void end_until_agi_contracts(World& w, FirmId lab);

// The seller holding an active exclusive capacity contract with the lab, or no_firm.
FirmId exclusive_holder(const World& w, FirmId lab_firm);

// H100e under capacity contracts known by now (signed, not ended) that run in
// month `at`, with `firm` as seller (sold) or as buyer (bought).
enum class ContractSide : std::uint8_t { sold, bought };
double capacity_under_contract(const World& w, FirmId firm, Month at, ContractSide side);

// Each lab's best licensed-in capability from active licences.
void update_licensed_capability(World& w);

std::vector<ContractRow> contract_rows(const World& w);

const char* contract_kind_name(ContractKind kind);

}  // namespace entangle
