#include "engine/record.hpp"

namespace entangle {

void ReplicationRecord::resize(const RecordShape& s) {
    shape = s;
    const auto times = static_cast<std::size_t>(s.times);
    const auto firms = static_cast<std::size_t>(s.firms);
    firm.assign(static_cast<std::size_t>(FirmSeries::count) * times * firms, 0.0);
    market.assign(static_cast<std::size_t>(MarketSeries::count) * times, 0.0);
    chip.assign(static_cast<std::size_t>(ChipSeries::count) * times * static_cast<std::size_t>(s.chips), 0.0);
    capacity_flow.assign(s.network ? times * firms * firms : 0, 0.0f);
    equity.assign(s.network ? times * firms * firms : 0, 0.0f);
}

}  // namespace entangle
