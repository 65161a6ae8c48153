#include "engine/market/bargaining.hpp"

#include <algorithm>

namespace entangle {

double rubinstein_proposer_share(double proposer_discount, double responder_discount) {
    const double denominator = 1.0 - proposer_discount * responder_discount;
    if (denominator <= 0) return 0.5;  // both perfectly patient: the limit of equal discounting
    return (1.0 - responder_discount) / denominator;
}

std::optional<double> bargain(Bargaining protocol, const BargainingInputs& in) {
    const double lab_reservation = in.lab_value - in.lab_outside;           // most the lab will pay
    const double seller_reservation = in.seller_cost + in.seller_outside;   // least the seller takes
    switch (protocol) {
        case Bargaining::nash:
            if (lab_reservation < seller_reservation) return std::nullopt;
            return in.lab_power * seller_reservation + (1.0 - in.lab_power) * lab_reservation;
        case Bargaining::rubinstein: {
            if (lab_reservation < seller_reservation) return std::nullopt;
            const double lab_share = rubinstein_proposer_share(in.lab_discount, in.seller_discount);
            return lab_reservation - lab_share * (lab_reservation - seller_reservation);
        }
        case Bargaining::posted: {
            const double posted = in.seller_cost * (1.0 + in.markup);
            if (posted > lab_reservation) return std::nullopt;
            return posted;
        }
    }
    return std::nullopt;
}

bool rofr_matches(double deal_price, double holder_cost, double holder_deliverable, double quantity) {
    return deal_price >= holder_cost && holder_deliverable >= quantity;
}

std::optional<Waiver> price_waiver(const WaiverInputs& in) {
    const double hours = in.remaining_months * hours_per_month;
    const double margin = in.price - in.holder_cost;
    Waiver w;
    w.holder_value = std::max(margin, 0.0) * in.lost_volume * hours;
    w.lab_value = in.unmet_need * in.lab_value * hours;
    if (!(w.lab_value > w.holder_value)) return std::nullopt;
    w.price = w.holder_value + (1.0 - in.lab_power) * (w.lab_value - w.holder_value);
    // Spend earns the holder its margin, so W of value takes W / margin_rate of
    // spend; a holder selling at or below cost is paid in spend one for one.
    const double margin_rate = margin > 0 && in.price > 0 ? margin / in.price : 1.0;
    w.commitment_usd = w.price / margin_rate;
    return w;
}

}  // namespace entangle
