#pragma once
// Bilateral bargaining over a capacity deal (MODEL.md 7) and the buy-out of an
// exclusivity or ROFR clause (MODEL.md 8), as pure functions of the parties'
// values and outside options. All prices in USD per H100e-hour.
#include <optional>

#include "engine/scenario.hpp"

namespace entangle {

struct BargainingInputs {
    double lab_value = 0;         // v_L
    double lab_outside = 0;       // d_L = v_L - p_alt (>= 0)
    double seller_cost = 0;       // c_S: levelised cost
    double seller_outside = 0;    // d_S = max(0, expected spot - c_S)
    double lab_power = 0.5;       // beta (nash)
    double lab_discount = 0.95;   // delta_L per month (rubinstein)
    double seller_discount = 0.95;// delta_S per month (rubinstein)
    double markup = 0.2;          // posted: price = c_S (1 + markup)
};

// The agreed price, or nothing when no deal is possible.
//  nash:       p* = argmax (v_L - p - d_L)^beta (p - c_S - d_S)^(1-beta)
//                 = beta (c_S + d_S) + (1 - beta) (v_L - d_L), if v_L - d_L >= c_S + d_S
//  rubinstein: the lab proposes first and keeps (1 - delta_S) / (1 - delta_L delta_S)
//              of the surplus between the same two reservation prices
//  posted:     c_S (1 + markup), taken when it does not exceed v_L - d_L
std::optional<double> bargain(Bargaining protocol, const BargainingInputs& in);

// The proposer's share of the surplus in Rubinstein alternating offers.
double rubinstein_proposer_share(double proposer_discount, double responder_discount);

// A right-of-first-refusal holder matches a rival deal at price p for Q when
// p covers its levelised cost and it can deliver Q by the start (MODEL.md 6).
bool rofr_matches(double deal_price, double holder_cost, double holder_deliverable, double quantity);

// The waiver of a clause (MODEL.md 8). X: the holder's value of the clause,
// (p - c) * lost_volume * months * 730; Y: the lab's value of freedom,
// unmet * v_L * months * 730. They agree when Y > X; the waiver price splits
// the surplus by beta, W = X + (1 - beta)(Y - X), paid as a spend commitment of
// W / margin_rate dollars with the holder.
struct Waiver {
    double holder_value = 0;   // X
    double lab_value = 0;      // Y
    double price = 0;          // W
    double commitment_usd = 0; // W / margin_rate
};
struct WaiverInputs {
    double price = 0;          // p, the clause holder's contract price
    double holder_cost = 0;    // c
    double lost_volume = 0;    // H100e the holder would lose without the clause
    double unmet_need = 0;     // H100e the lab cannot get under the clause
    double lab_value = 0;      // v_L
    double remaining_months = 0;
    double lab_power = 0.5;    // beta
};
std::optional<Waiver> price_waiver(const WaiverInputs& in);

}  // namespace entangle
