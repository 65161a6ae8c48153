#include "engine/record.hpp"

namespace entangle {

namespace {

// The length of each array of a record of shape `s`.
struct ArrayLengths {
    std::size_t firm, market, chip, network;
};
ArrayLengths array_lengths(const RecordShape& s) {
    const auto times = static_cast<std::size_t>(s.times);
    const auto firms = static_cast<std::size_t>(s.firms);
    return {static_cast<std::size_t>(FirmSeries::count) * times * firms,
            static_cast<std::size_t>(MarketSeries::count) * times,
            static_cast<std::size_t>(ChipSeries::count) * times * static_cast<std::size_t>(s.chips),
            s.network ? times * firms * firms : 0};
}

}  // namespace

void ReplicationRecord::resize(const RecordShape& s) {
    shape = s;
    const ArrayLengths n = array_lengths(s);
    firm.assign(n.firm, 0.0);
    market.assign(n.market, 0.0);
    chip.assign(n.chip, 0.0);
    capacity_flow.assign(n.network, 0.0f);
    equity.assign(n.network, 0.0f);
}

std::size_t ReplicationRecord::array_bytes(const RecordShape& s) {
    const ArrayLengths n = array_lengths(s);
    return (n.firm + n.market + n.chip) * sizeof(double) + 2 * n.network * sizeof(float);
}

}  // namespace entangle
