#pragma once
// Event and contract text: printf's "%s", "%d" and "%.Nf" with the numbers
// written by std::to_chars, which gives the same characters as glibc's printf
// (correctly rounded, ties to even; tests/unit/test_core.cpp checks them
// against snprintf) for about a tenth of the instructions. The engine
// formats a line every few months per firm when a run records its tables:
// snprintf was ~4% of such a replication.
#include <array>
#include <charconv>
#include <concepts>
#include <stdexcept>
#include <string>
#include <string_view>

namespace entangle {

// One argument of format_text: a number or a piece of text, never owned.
class TextArg {
public:
    TextArg(std::string_view text) : text_(text), kind_(Kind::text) {}
    TextArg(const char* text) : text_(text), kind_(Kind::text) {}
    TextArg(const std::string& text) : text_(text), kind_(Kind::text) {}
    TextArg(double number) : number_(number), kind_(Kind::real) {}
    template <std::integral Int>
    TextArg(Int whole) : whole_(static_cast<long long>(whole)), kind_(Kind::whole) {}

    // Appends the argument as `conversion` ('s', 'd' or 'f' with `decimals`) writes it.
    void append_to(std::string& out, char conversion, int decimals) const {
        std::array<char, 400> digits;  // the widest double in fixed notation, with its decimals
        std::to_chars_result written{};
        if (conversion == 's' && kind_ == Kind::text) {
            out.append(text_);
            return;
        } else if (conversion == 'f' && kind_ == Kind::real) {
            written = std::to_chars(digits.data(), digits.data() + digits.size(), number_, std::chars_format::fixed,
                                    decimals);
        } else if (conversion == 'd' && kind_ == Kind::whole) {
            written = std::to_chars(digits.data(), digits.data() + digits.size(), whole_);
        } else {
            throw std::logic_error(std::string("format_text: '%") + conversion + "' given another kind of value");
        }
        out.append(digits.data(), written.ptr);
    }

private:
    enum class Kind { text, real, whole };
    std::string_view text_;
    double number_ = 0;
    long long whole_ = 0;
    Kind kind_;
};

// `format` with each "%s", "%d", "%.Nf" (N one digit) or "%f" (6 decimals)
// replaced by the next argument, "%%" by '%'. A conversion without an
// argument, of another kind or not in this list is a std::logic_error: the
// formats are the engine's own.
template <typename... Args>
std::string format_text(std::string_view format, const Args&... args) {
    const std::array<TextArg, sizeof...(Args)> values{TextArg(args)...};
    std::string out;
    out.reserve(format.size() + 16 * sizeof...(Args));
    std::size_t next = 0;
    for (std::size_t i = 0; i < format.size(); ++i) {
        if (format[i] != '%') {
            out.push_back(format[i]);
            continue;
        }
        if (i + 1 < format.size() && format[i + 1] == '%') {
            out.push_back('%');
            ++i;
            continue;
        }
        int decimals = 6;
        if (i + 2 < format.size() && format[i + 1] == '.' && format[i + 2] >= '0' && format[i + 2] <= '9') {
            decimals = format[i + 2] - '0';
            i += 2;
        }
        if (i + 1 >= format.size()) throw std::logic_error("format_text: '%' at the end of the format");
        const char conversion = format[++i];
        if (next >= values.size()) throw std::logic_error("format_text: more conversions than arguments");
        values[next++].append_to(out, conversion, decimals);
    }
    if (next != values.size()) throw std::logic_error("format_text: more arguments than conversions");
    return out;
}

}  // namespace entangle
