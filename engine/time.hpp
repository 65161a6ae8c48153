#pragma once
// Calendar months as small integers. Month 0 is January of year 0, so that
// ordering and differences are plain integer arithmetic.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace entangle {

struct Month {
    std::int32_t index = 0;  // year * 12 + (month - 1)

    static constexpr Month from_year_month(int year, int month) { return Month{year * 12 + (month - 1)}; }
    constexpr int year() const { return index / 12; }
    constexpr int month() const { return index % 12 + 1; }
    friend constexpr auto operator<=>(Month, Month) = default;
    friend constexpr int operator-(Month a, Month b) { return a.index - b.index; }
    friend constexpr Month operator+(Month a, int months) { return Month{a.index + months}; }
};

// Parses exactly "YYYY-MM" (month 01-12); nullopt otherwise.
std::optional<Month> parse_month(std::string_view text);
std::string format_month(Month m);
// Days from 1970-01-01 to the first day of the month (CF time for xarray).
std::int64_t days_since_epoch(Month m);

}  // namespace entangle
