#include "engine/time.hpp"

#include <cstdio>

namespace entangle {

std::optional<Month> parse_month(std::string_view text) {
    if (text.size() != 7 || text[4] != '-') return std::nullopt;
    int year = 0;
    for (int i = 0; i < 4; ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        year = year * 10 + (text[i] - '0');
    }
    if (text[5] < '0' || text[5] > '9' || text[6] < '0' || text[6] > '9') return std::nullopt;
    const int month = (text[5] - '0') * 10 + (text[6] - '0');
    if (month < 1 || month > 12) return std::nullopt;
    return Month::from_year_month(year, month);
}

std::string format_month(Month m) {
    const int year = m.year(), month = m.month();
    if (year < 0 || year > 9999) {
        char buffer[16];
        std::snprintf(buffer, sizeof buffer, "%04d-%02d", year, month);
        return buffer;
    }
    // Every event row and generated contract id carries a month: snprintf was
    // a visible share of a sweep that keeps its tables.
    std::string text(7, '-');
    text[0] = static_cast<char>('0' + year / 1000);
    text[1] = static_cast<char>('0' + year / 100 % 10);
    text[2] = static_cast<char>('0' + year / 10 % 10);
    text[3] = static_cast<char>('0' + year % 10);
    text[5] = static_cast<char>('0' + month / 10);
    text[6] = static_cast<char>('0' + month % 10);
    return text;
}

std::int64_t days_since_epoch(Month m) {
    // Howard Hinnant's days_from_civil, for day 1 of the month.
    std::int64_t y = m.year();
    const unsigned mo = static_cast<unsigned>(m.month());
    y -= mo <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + 1 - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace entangle
