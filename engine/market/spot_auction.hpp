#pragma once
// Uniform-price double auction (MODEL.md 5.4): sellers' asks and buyers' bids
// (quantity at a limit price) clear at one price. Quantity traded is the
// textbook maximum of min(supply(p), demand(p)); the price is the midpoint of
// the interval of prices that clear it (the marginal ask when supply is left
// over at the margin, the marginal bid when demand is). Ties at the margin
// are shared pro rata to quantity, so the result does not depend on input order.
#include <cstdint>
#include <span>
#include <vector>

namespace entangle {

struct Order {
    std::uint32_t owner = 0;  // caller's index (firm id)
    double quantity = 0;      // >= 0
    double price = 0;         // limit price
    double filled = 0;        // output: quantity traded
};

struct ClearingResult {
    double price = 0;     // NaN when nothing trades
    double volume = 0;
};

// An order's price and index, sorted contiguously (cheaper than sorting
// indices that compare through the orders).
struct RankedOrder {
    double price = 0;
    std::uint32_t index = 0;
};

// Clears in place (fills Order::filled). `scratch` is reused across calls so
// that clearing does not allocate once warmed up.
ClearingResult clear_uniform_price(std::span<Order> asks, std::span<Order> bids, std::vector<RankedOrder>& scratch);

}  // namespace entangle
