#include "engine/procurement.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>

#include "engine/contracts.hpp"
#include "engine/market/bargaining.hpp"
#include "engine/simulation.hpp"
#include "engine/text.hpp"

namespace entangle {
namespace {

using Quote = CapacityQuote;

// Installed, delivered and ordered capacity, at the cloud's target utilisation.
double deliverable_capacity(const World& w, const CloudState& cloud, Month at) {
    double pipeline = cloud.capacity_general;
    for (ChipId c : cloud.held_families) {  // read after the supply phase has set ChipState
        if (w.chips[c].inference_only) continue;
        pipeline += (cloud.stranded[c] + cloud.on_order[c]) * w.chips[c].effective_h100e;
    }
    const double target = w.param(w.sc().firms[cloud.firm].cloud->target_utilisation);
    return std::max(pipeline * target - capacity_under_contract(w, cloud.firm, at, ContractSide::sold), 0.0);
}

// Spend the lab must make with the seller anyway (take-or-pay) makes its
// purchases there cheaper: only (1 - take_or_pay) of the price is new money.
double steer(const World& w, FirmId buyer, FirmId seller, double price) {
    const World::ContractIndex& index = w.indexed_contracts();
    if (index.commitments[buyer * w.n_firms() + seller] == 0) return price;
    for (std::uint32_t position : index.commitments_by_buyer[buyer])
        if (const ContractState& c = w.contracts[position];
            c.status == ContractStatus::active && c.spec->seller == seller && c.spent < c.spec->value_usd)
            return price * (1.0 - c.spec->take_or_pay);
    return price;
}

void sign(World& w, FirmId lab, FirmId seller, double quantity, double price, Month start, Month end,
          const char* how, bool exclusive = false) {
    const Scenario& sc = w.sc();
    const Month now = w.month();
    ContractSpec& spec = w.signed_specs.emplace_back();
    spec.kind = ContractKind::capacity;
    spec.seller = seller;
    spec.buyer = lab;
    spec.signed_at = now;
    spec.start = start;
    spec.end = end;
    spec.quantity_h100e = quantity;
    spec.price_usd_per_h100e_hour = price;
    spec.exclusive = exclusive;
    ContractState& state = w.contracts.emplace_back();
    state.spec = &spec;
    state.signed_at = now;
    state.exclusive = exclusive;
    // Ids and text are for the results only: a contract is known by its place in the book.
    if (!w.log_events) return;
    spec.id = "auto_" + sc.firms[lab].name + "_" + sc.firms[seller].name + "_" + format_month(now);
    w.event_log.push_back(EventRow{format_month(now), "sign", sc.firms[seller].name + "," + sc.firms[lab].name,
                                   format_text("%s: %.0f H100e at %.2f USD/H100e-h, %s to %s%s", spec.id, quantity,
                                               price, format_month(start), format_month(end), how)});
}

// MODEL.md 8: a lab held back by an exclusive clause (need unmet, holder unable
// to deliver more) offers the holder a spend commitment for waiving it.
void renegotiate_exclusivity(World& w, LabState& lab) {
    const Scenario& sc = w.sc();
    const double need = lab.need_training + lab.need_inference;
    const double unmet = lab.unmet_share * need;
    if (unmet <= 1.0 || w.indexed_contracts().exclusive[lab.firm] == 0) return;
    for (ContractState& c : w.contracts) {
        if (c.status != ContractStatus::active || !c.exclusive || c.spec->buyer != lab.firm) continue;
        if (!c.spec->waivable) return;  // the holder will not sell its clause at any price
        const CloudState& holder = w.clouds[w.firms[c.spec->seller].cloud];
        const Month now = w.month();
        if (deliverable_capacity(w, holder, now) > 1.0) return;  // the holder can still serve it
        // Without the clause the holder would lose the part of the lab's volume
        // it would spread to other sellers (an even split among those selling).
        const auto sellers = static_cast<int>(w.spot_sellers.size());
        WaiverInputs in;
        in.price = c.spec->price_usd_per_h100e_hour;
        in.holder_cost = holder.levelised_full;
        in.lost_volume = c.spec->quantity_h100e * (1.0 - 1.0 / std::max(sellers, 1));
        in.unmet_need = unmet;
        in.lab_value = lab.bid_training;
        in.remaining_months = static_cast<double>(c.spec->end - now + 1);
        in.lab_power = w.param(sc.market.lab_power);
        const std::optional<Waiver> waiver = price_waiver(in);
        if (!waiver) return;
        c.exclusive = false;
        // w.contracts grows below: keep the held contract by its spec, not by reference.
        const ContractSpec& held = *c.spec;
        ContractSpec& commitment = w.signed_specs.emplace_back();
        commitment.kind = ContractKind::commitment;
        commitment.seller = held.seller;
        commitment.buyer = lab.firm;
        commitment.signed_at = now;
        commitment.start = now;
        commitment.end = held.end;
        commitment.value_usd = waiver->commitment_usd;
        commitment.take_or_pay = 1.0;
        ContractState& state = w.contracts.emplace_back();
        state.spec = &commitment;
        state.signed_at = now;
        state.status = ContractStatus::active;
        if (!w.log_events) return;
        commitment.id = "waiver_" + held.id;
        w.event_log.push_back(
            EventRow{format_month(now), "waiver", sc.firms[held.seller].name + "," + sc.firms[lab.firm].name,
                     format_text("%s: exclusivity waived for a %.2f B USD spend commitment (holder's value %.2f B, "
                                 "lab's %.2f B, waiver %.2f B)",
                                 held.id, waiver->commitment_usd / 1e9, waiver->holder_value / 1e9,
                                 waiver->lab_value / 1e9, waiver->price / 1e9)});
        return;
    }
}

// The ROFR holder that takes a deal with `seller` on the same terms, or `seller`.
FirmId rofr_taker(const World& w, FirmId lab, FirmId seller, double price, double quantity, Month start) {
    for (std::uint32_t position : w.indexed_contracts().rofr_by_buyer[lab]) {
        const ContractState& c = w.contracts[position];
        if (!c.live() || c.spec->seller == seller) continue;
        if (w.forbidden_pair(c.spec->seller, lab)) continue;
        const CloudState& rofr_cloud = w.clouds[w.firms[c.spec->seller].cloud];
        if (rofr_matches(price, rofr_cloud.levelised_full, deliverable_capacity(w, rofr_cloud, start), quantity))
            return c.spec->seller;
    }
    return seller;
}

// MODEL.md 7: a seller may offer `exclusivity_discount` off its price for an
// exclusive contract of `exclusivity_months` covering the whole round (a seller
// that cannot deliver all of it makes no offer: the lab would go short); the lab
// takes the cheapest such offer when the discount over the term is worth more
// than the option value it gives up, price_dispersion * quantity * hours.
bool accept_exclusivity(World& w, const LabState& lab, const LabRole& role, std::span<const Quote> quotes,
                        double wanted, Month start) {
    const Quote* best = nullptr;
    double best_price = std::numeric_limits<double>::infinity(), best_discount = 0;
    for (const Quote& q : quotes) {
        const double discount = w.param(w.sc().firms[w.clouds[q.cloud].firm].cloud->exclusivity_discount);
        if (discount <= 0 || q.deliverable < wanted) continue;
        if (q.price * (1 - discount) < best_price) {
            best = &q;
            best_price = q.price * (1 - discount);
            best_discount = discount;
        }
    }
    if (!best) return false;
    const FirmId offering = w.clouds[best->cloud].firm;
    const int months = w.sc().firms[offering].cloud->exclusivity_months;
    const double hours = hours_per_month * months;
    const double saving = best_discount * best->price * wanted * hours;
    const double option_value = w.param(role.price_dispersion) * wanted * hours;
    if (saving <= option_value) return false;
    const FirmId seller = rofr_taker(w, lab.firm, offering, best_price, wanted, start);
    sign(w, lab.firm, seller, wanted, best_price, start, start + (months - 1),
         seller == offering ? " (exclusive, for a discount)" : " (exclusive; matched under a right of first refusal)",
         true);
    return true;
}

// MODEL.md 7: a self-building lab (one with a cloud of its own) also gets
// quotes from chipmakers. The family it would build with is the one of lowest
// levelised cost to its cloud; when that beats renting (`best_rental`, USD per
// H100e-hour), the vendor and the lab bargain a chip_supply contract: units
// spread over the term (at most half the family's current output a month),
// served before open orders. The vendor's reservation is its price floor plus
// its outside option of selling to open orders at the list price; the lab's
// value of a unit is the price scaled by v_L over its levelised cost, its
// outside option buying the unit as an open order. Returns the H100e covered.
double procure_chips(World& w, const LabState& lab, double wanted, Month start, Month end,
                     double best_rental) {
    const Scenario& sc = w.sc();
    const CloudState& own = w.clouds[w.firms[lab.firm].cloud];
    const Month now = w.month();
    ChipId best = 0;
    double best_cost = best_rental;
    bool found = false;
    for (ChipId c : own.families) {  // the lab's firm buys as its cloud
        if (!may_buy(w, lab.firm, c) || sc.chips[c].release > now || w.chips[c].production_cap <= 0) continue;
        if (sc.chips[c].workload == Workload::inference) continue;  // it builds to train as well as serve
        const double cost = own.levelised[c].full;
        if (cost > 0 && cost < best_cost) best = c, best_cost = cost, found = true;
    }
    if (!found) return 0;
    const ChipSpec& chip = sc.chips[best];
    const FirmId vendor = chip.vendor;
    if (vendor == lab.firm || w.forbidden_pair(vendor, lab.firm)) return 0;
    const double per_unit = w.effective_h100e(best);
    const int term = end - start + 1;
    const double units_per_month =
        std::min(wanted / per_unit / term, 0.5 * w.chips[best].production_cap / sc.months_per_step);
    if (units_per_month * term * per_unit <= 1.0) return 0;
    const double market = w.chips[best].price;
    BargainingInputs in;
    in.seller_cost = w.param(chip.unit_cost) * (1.0 + w.param(sc.firms[vendor].chipmaker->min_margin));
    in.seller_outside = std::max(market - in.seller_cost, 0.0);
    in.lab_value = market * std::max(lab.bid_training, 0.0) / best_cost;
    in.lab_outside = std::max(in.lab_value - market, 0.0);
    in.lab_power = w.param(sc.market.lab_power);
    in.lab_discount = w.param(sc.market.lab_discount);
    in.seller_discount = w.param(sc.market.seller_discount);
    in.markup = w.param(sc.market.posted_markup);
    const std::optional<double> price = bargain(sc.market.bargaining, in);
    if (!price) return 0;
    ContractSpec& spec = w.signed_specs.emplace_back();
    spec.kind = ContractKind::chip_supply;
    spec.seller = vendor;
    spec.buyer = lab.firm;
    spec.signed_at = now;
    spec.start = start;
    spec.end = end;
    spec.chip = best;
    spec.units_per_month = units_per_month;
    spec.unit_price = *price;
    spec.priority = true;
    ContractState& state = w.contracts.emplace_back();
    state.spec = &spec;
    state.signed_at = now;
    const double covered = units_per_month * term * per_unit;
    if (!w.log_events) return covered;
    spec.id = "auto_" + sc.firms[lab.firm].name + "_" + sc.firms[vendor].name + "_" + chip.name + "_" + format_month(now);
    w.event_log.push_back(EventRow{format_month(now), "sign", sc.firms[vendor].name + "," + sc.firms[lab.firm].name,
                                   format_text("%s: %.0f %s a month at %.0f USD a unit (list %.0f), %s to %s", spec.id,
                                               units_per_month, chip.name, *price, market, format_month(start),
                                               format_month(end))});
    return covered;
}

}  // namespace

void procure_capacity(World& w, RoleIndex l) {
    const Scenario& sc = w.sc();
    LabState& lab = w.labs[l];
    const LabRole& role = *sc.firms[lab.firm].lab;
    if (w.step > 0) renegotiate_exclusivity(w, lab);
    const double share = w.param(role.contract_share);
    const int interval = std::max(1, role.procurement_interval_months / sc.months_per_step);
    if (share <= 0 || w.step % interval != 0 || w.step + 1 >= w.steps) return;

    const Month start = sc.month_of_step(w.step + 1);
    const Month end = start + (role.contract_term_months - 1);
    const RoleIndex own = w.firms[lab.firm].cloud;
    const double own_capacity = own != no_role ? w.clouds[own].capacity_general : 0.0;
    // Need forecast to the middle of the term: training need grows at the lab's
    // training_growth, inference need with the end market.
    const double horizon_years = (role.contract_term_months / 2.0 + sc.months_per_step) / 12.0;
    const double forecast =
        lab.need_training * std::pow(w.param(role.training_growth), horizon_years) +
        lab.need_inference * std::pow(std::max(1.0 + w.param(sc.market.end_market_growth), 0.0), horizon_years);
    double wanted = share * forecast - own_capacity - capacity_under_contract(w, lab.firm, start, ContractSide::bought);
    if (wanted <= 1.0) return;

    // Quotes from every selling cloud (only the holder while an exclusive contract runs).
    const FirmId holder = exclusive_holder(w, lab.firm);
    const double spot = w.spot_price;  // last month's clearing price: the expected spot price
    std::vector<Quote>& quotes = w.quote_scratch;
    quotes.clear();
    for (const RoleIndex c : w.spot_sellers) {
        const CloudState& cloud = w.clouds[c];
        if (cloud.firm == lab.firm) continue;
        if (holder != no_firm && cloud.firm != holder) continue;
        if (w.forbidden_pair(cloud.firm, lab.firm)) continue;
        if (cloud.levelised_full <= 0) continue;
        const double deliverable = deliverable_capacity(w, cloud, start);
        if (deliverable <= 1.0) continue;
        const double outside = std::isfinite(spot) ? std::max(spot - cloud.levelised_full, 0.0) : 0.0;
        quotes.push_back(Quote{c, cloud.levelised_full, cloud.levelised_full + outside, deliverable});
    }
    BargainingInputs in;
    in.lab_value = lab.bid_training;
    in.lab_power = w.param(sc.market.lab_power);
    in.lab_discount = w.param(sc.market.lab_discount);
    in.seller_discount = w.param(sc.market.seller_discount);
    in.markup = w.param(sc.market.posted_markup);
    for (Quote& q : quotes) {
        // The lab's alternative: the best other reservation or the spot market.
        double alternative = std::isfinite(spot) ? spot : std::numeric_limits<double>::infinity();
        for (const Quote& other : quotes)
            if (&other != &q) alternative = std::min(alternative, other.reservation);
        in.lab_outside = std::isfinite(alternative) ? std::max(in.lab_value - alternative, 0.0) : 0.0;
        in.seller_cost = q.cost;
        in.seller_outside = q.reservation - q.cost;
        const std::optional<double> price = bargain(sc.market.bargaining, in);
        q.price = price ? *price : -1.0;
        q.effective = price ? steer(w, lab.firm, w.clouds[q.cloud].firm, *price) : 0.0;
    }
    std::erase_if(quotes, [](const Quote& q) { return q.price < 0; });
    std::sort(quotes.begin(), quotes.end(), [](const Quote& a, const Quote& b) { return a.effective < b.effective; });

    if (own != no_role && holder == no_firm) {
        const double best_rental = quotes.empty() ? std::numeric_limits<double>::infinity() : quotes.front().effective;
        wanted -= procure_chips(w, lab, wanted, start, end, best_rental);
        if (wanted <= 1.0) return;
    }
    if (holder == no_firm && accept_exclusivity(w, lab, role, quotes, wanted, start)) return;

    // Cheapest first, at most max_supplier_share of the round from one seller;
    // a ROFR holder may take each deal on the same terms first.
    const double per_seller = w.param(role.max_supplier_share) * wanted;
    double remaining = wanted;
    for (Quote& q : quotes) {
        if (remaining <= 1.0) break;
        const double quantity = std::min({remaining, q.deliverable, per_seller});
        if (quantity <= 1.0) continue;
        const FirmId offering = w.clouds[q.cloud].firm;
        const FirmId seller = rofr_taker(w, lab.firm, offering, q.price, quantity, start);
        const char* how = seller == offering ? "" : " (matched under a right of first refusal)";
        sign(w, lab.firm, seller, quantity, q.price, start, end, how);
        remaining -= quantity;
    }
}

}  // namespace entangle
