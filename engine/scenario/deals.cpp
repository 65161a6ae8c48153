// The schema and readers of the deal sections: equity stakes, contracts and
// events. Each contract kind and event kind declares the keys it needs once,
// and the reference documents them from the same tables.
#include <algorithm>
#include <map>

#include "engine/scenario/sections.hpp"

namespace entangle::loader {

namespace {

// A kind of contract or event: its word, its value, and the keys it must give.
template <class Kind>
struct KindEntry {
    std::string word;
    Kind kind;
    std::vector<std::string> needs;
};

template <class Kind>
struct KindTable {
    std::vector<KindEntry<Kind>> entries;

    Words<Kind> words() const {
        Words<Kind> out;
        for (const KindEntry<Kind>& e : entries) out.emplace_back(e.word, e.kind);
        return out;
    }
    const KindEntry<Kind>* find(std::string_view word) const {
        for (const KindEntry<Kind>& e : entries)
            if (e.word == word) return &e;
        return nullptr;
    }
    std::string describe() const {
        std::string out;
        for (const KindEntry<Kind>& e : entries)
            out += (out.empty() ? "" : "; ") + e.word + " needs " +
                   (e.needs.empty() ? "nothing more" : join(e.needs));
        return out;
    }
};

const KindTable<ContractKind>& contract_kinds() {
    static const KindTable<ContractKind> table{{
        {"capacity", ContractKind::capacity, {"quantity_h100e", "price_usd_per_h100e_hour"}},
        {"chip_supply", ContractKind::chip_supply, {"chip", "units_per_month", "unit_price"}},
        {"commitment", ContractKind::commitment, {"value_usd"}},
        {"licence", ContractKind::licence, {"fee_usd_per_year"}},
        {"revenue_share", ContractKind::revenue_share, {"share"}},
        {"equity", ContractKind::equity, {"value_usd"}},
    }};
    return table;
}

const KindTable<EventKind>& event_kinds() {
    static const KindTable<EventKind> table{{
        {"sign", EventKind::sign, {"contract"}},
        {"forbid", EventKind::forbid, {"firms"}},
        {"amend", EventKind::amend, {"target", "changes"}},
        {"terminate", EventKind::terminate, {"target"}},
        {"set", EventKind::set, {"target", "value"}},
        {"scale", EventKind::scale, {"target", "value"}},
        {"acquire", EventKind::acquire, {"firms", "value"}},
        {"invest", EventKind::invest, {"contract"}},
        {"shock", EventKind::shock, {"target", "value"}},
        {"declare_agi", EventKind::declare_agi, {}},
    }};
    return table;
}

std::string with_article(const std::string& word) {
    return (word.find_first_of("aeiou") == 0 ? "an " : "a ") + word;
}

// The keys a kind needs, each reported when missing.
void require_keys(const Tree& map, const std::vector<std::string>& keys, const std::string& what,
                  const Where& w, Reader& r) {
    for (const std::string& key : keys)
        if (!map.find(key)) r.error(map, w, what + " needs " + in_quotes(key));
}

std::string month_text(const Tree& map, std::string_view key) {
    const Tree* t = map.find(key);
    return t && t->is_scalar() ? t->text : "";
}

// Checks that need several keys of a contract at once.
void finish_contract(ContractSpec& c, const Tree& map, const Where& w, Reader& r) {
    if (!map.is_map()) return;
    const bool has_end = map.find("end"), has_term = map.find("term_months");
    if (has_end && has_term)
        r.error(*map.find("term_months"), w, "give either 'end' or 'term_months', not both");
    if (!has_end && !has_term) r.error(map, w, "missing 'end' or 'term_months'");
    const auto start = parse_month(month_text(map, "start"));
    if (!map.find("signed")) c.signed_at = c.start;
    const auto sign = parse_month(month_text(map, "signed"));
    if (start && sign && *sign > *start)
        r.error(*map.find("signed"), w,
                "signed " + format_month(*sign) + " is after start " + format_month(*start));
    if (start && has_end && !has_term && parse_month(month_text(map, "end")) && c.end < c.start)
        r.error(*map.find("end"), w,
                "end " + format_month(c.end) + " is before start " + format_month(c.start));
    if (c.seller != no_firm && c.seller == c.buyer) r.error(map, w, "seller and buyer are the same firm");
    const Tree* kind = map.find("kind");
    if (const auto* entry = kind ? contract_kinds().find(kind->text) : nullptr)
        require_keys(map, entry->needs, with_article(entry->word) + " contract", w, r);
}

// A contract as given in `contracts` or in an event.
std::optional<ContractSpec> read_contract(const Tree& t, const Where& w, Reader& r) {
    ContractSpec c;
    read_fields(c, t, contract_schema(), w, r);
    finish_contract(c, t, w, r);
    if (c.id.empty()) return std::nullopt;
    return c;
}

}  // namespace

const Schema<ContractSpec>& contract_schema() {
    using K = ContractSpec;
    const auto firm = [](FirmId K::*member) {
        return [member](K& c, const Tree& t, const Where& w, Reader& r) {
            if (auto f = r.firm(t, w)) c.*member = *f;
        };
    };
    static const Schema<K> schema = [&] {
        Schema<K> s{
            custom_field<K>("id", "name", "required", "unique among all contracts, those of events included",
                            [](K& c, const Tree& t, const Where& w, Reader& r) {
                                if (auto id = r.name(t, w); id && r.unique_id("contract", t, w))
                                    c.id = *id;
                            }),
            choice_field<K, ContractKind>("kind", &K::kind, contract_kinds().words(),
                                          "what is traded; " + contract_kinds().describe()),
            custom_field<K>("seller", "firm", "required", "provider, vendor, licensor, payee or investee",
                            firm(&K::seller)),
            custom_field<K>("buyer", "firm", "required", "user, licensee, payer or investor",
                            firm(&K::buyer)),
            month_field<K>("start", &K::start, "required", "first month in force"),
            month_field<K>("signed", &K::signed_at, "start", "month signed; not after start"),
            month_field<K>("end", &K::end, "from term_months",
                           "last month in force (inclusive); or give term_months"),
            custom_field<K>("term_months", "integer", "none",
                            "months in force: end = start + term_months - 1 (>= 1)",
                            [](K& c, const Tree& t, const Where& w, Reader& r) {
                                if (const auto n = whole_fitting<int>(r, t, w, at_least(1), "months"))
                                    c.end = c.start + (*n - 1);
                            }),
            number_field<K>("quantity_h100e", &K::quantity_h100e, non_negative, "H100e",
                            "capacity delivered"),
            number_field<K>("price_usd_per_h100e_hour", &K::price_usd_per_h100e_hour, non_negative,
                            "USD per H100e-hour", "capacity price"),
            integer_field<K>("ramp_months", &K::ramp_months, non_negative, "months",
                             "months to reach full quantity"),
            custom_field<K>("chip", "chip", "none", "chip family supplied (chip_supply)",
                            [](K& c, const Tree& t, const Where& w, Reader& r) {
                                if (auto id = r.chip(t, w)) c.chip = *id;
                            }),
            number_field<K>("units_per_month", &K::units_per_month, non_negative, "units per month",
                            "chips supplied"),
            number_field<K>("unit_price", &K::unit_price, non_negative, "USD per unit", "chip price"),
            number_field<K>("value_usd", &K::value_usd, non_negative, "USD", "value committed or invested"),
            number_field<K>("fee_usd_per_year", &K::fee_usd_per_year, non_negative, "USD per year",
                            "licence fee"),
            number_field<K>("share", &K::share, unit_interval, "", "revenue share paid"),
            flag_field<K>("exclusive", &K::exclusive, "the buyer may not buy capacity elsewhere"),
            flag_field<K>("rofr", &K::rofr, "the seller has a right of first refusal"),
            flag_field<K>("until_agi", &K::until_agi, "ends when AGI is declared"),
            flag_field<K>("in_kind", &K::in_kind, "paid in compute rather than cash"),
            flag_field<K>("priority", &K::priority, "served before other contracts"),
            flag_field<K>("waivable", &K::waivable,
                          "false: the holder never sells a waiver of exclusivity (renegotiation, MODEL.md 8)"),
            number_field<K>("sla_credit", &K::sla_credit, unit_interval, "",
                            "share of the price credited for capacity not delivered"),
            number_field<K>("take_or_pay", &K::take_or_pay, unit_interval, "",
                            "share of the quantity paid for even if unused"),
        };
        s[1].required = true;  // kind
        return s;
    }();
    return schema;
}

void read_contracts(Scenario& sc, const Tree& t, const Where& w, Reader& r) {
    if (t.is_null()) return;
    if (!t.is_list()) {
        r.error(t, w, "expected a list of contracts, found " + t.describe());
        return;
    }
    for (std::size_t i = 0; i < t.items.size(); ++i)
        if (auto c = read_contract(t.items[i], item_where(w, t.items[i], i), r))
            sc.contracts.push_back(std::move(*c));
}

// ---- events ---------------------------------------------------------------

namespace {

void check_event_target(const EventSpec& e, const Tree& target, const Where& w, Reader& r) {
    const bool contract_target = e.kind == EventKind::amend || e.kind == EventKind::terminate;
    const bool param_target =
        e.kind == EventKind::set || e.kind == EventKind::scale || e.kind == EventKind::shock;
    if (contract_target) {
        r.reference(target, w / "target", "contract", r.names().contracts);
    } else if (param_target && !r.param_paths().contains(e.target)) {
        const std::vector<std::string> paths(r.param_paths().begin(), r.param_paths().end());
        const auto near = nearest(e.target, paths);
        r.error(target, w / "target",
                "unknown parameter " + in_quotes(e.target) +
                    (near ? "; did you mean " + in_quotes(*near) + "?" : "") +
                    " (expected a key path such as firms.NAME.lab.training_growth)");
    }
}

void finish_event(EventSpec& e, const Tree& map, const Where& w, Reader& r) {
    const Tree* kind = map.is_map() ? map.find("do") : nullptr;
    const auto* entry = kind ? event_kinds().find(kind->text) : nullptr;
    if (!entry) return;  // a missing or unknown `do` is reported already
    require_keys(map, entry->needs, with_article(entry->word) + " event", w, r);
    if (const Tree* target = map.find("target"); target && target->is_scalar())
        check_event_target(e, *target, w, r);
    if (e.kind == EventKind::acquire && map.find("firms") && e.firms.size() != 2)
        r.error(*map.find("firms"), w / "firms", "an acquire event needs two firms: [acquirer, target]");
    if (e.kind == EventKind::forbid && map.find("firms") && e.firms.size() < 2)
        r.error(*map.find("firms"), w / "firms", "a forbid event needs at least two firms (every pair among them is forbidden)");
    if ((e.kind == EventKind::forbid || e.kind == EventKind::acquire) && map.find("firms")) {
        std::vector<FirmId> sorted = e.firms;
        std::ranges::sort(sorted);
        if (std::ranges::adjacent_find(sorted) != sorted.end())
            r.error(*map.find("firms"), w / "firms", "a firm is named twice");
    }
    const auto at = parse_month(month_text(map, "at")), until = parse_month(month_text(map, "until"));
    if (at && until && *until < *at)
        r.error(*map.find("until"), w / "until",
                format_month(*until) + " is before the event's month " + format_month(*at));
}

bool amendable(std::string_view key) {
    return std::ranges::find(amendable_contract_keys, key) != std::end(amendable_contract_keys);
}

// What an amendment may change: the amendable keys of contract_schema, none required.
const Schema<ContractSpec>& amendment_schema() {
    static const Schema<ContractSpec> schema = [] {
        Schema<ContractSpec> s;
        for (const Field<ContractSpec>& f : contract_schema())
            if (amendable(f.key)) {
                s.push_back(f);
                s.back().required = false;
            }
        return s;
    }();
    return schema;
}

std::string amendable_keys_text() {
    std::vector<std::string> keys(std::begin(amendable_contract_keys), std::end(amendable_contract_keys));
    return join(keys);
}

}  // namespace

const Schema<EventSpec>& event_schema() {
    using E = EventSpec;
    static const Schema<E> schema = [] {
        Schema<E> s{
            custom_field<E>("id", "name", "required", "unique among events",
                            [](E& e, const Tree& t, const Where& w, Reader& r) {
                                if (auto id = r.name(t, w); id && r.unique_id("event", t, w)) e.id = *id;
                            }),
            month_field<E>("at", &E::at, "required", "month it happens"),
            choice_field<E, EventKind>("do", &E::kind, event_kinds().words(),
                                       "what happens; " + event_kinds().describe()),
            flag_field<E>("enabled", &E::enabled, "false keeps it in the file but off"),
            custom_field<E>(
                "contract", "contract", "none",
                "the contract signed (sign, invest), with the keys of contracts",
                [](E& e, const Tree& t, const Where& w, Reader& r) { e.contract = read_contract(t, w, r); }),
            custom_field<E>("firms", "[firm, ...]", "[]",
                            "firms concerned: forbid, acquire (acquirer, target), declare_agi",
                            [](E& e, const Tree& t, const Where& w, Reader& r) {
                                if (auto f = r.firms(t, w)) e.firms = *f;
                            }),
            custom_field<E>("target", "text", "none",
                            "amend, terminate: a contract id; set, scale, shock: a parameter's key path",
                            [](E& e, const Tree& t, const Where& w, Reader& r) {
                                if (auto v = r.text(t, w)) e.target = *v;
                            }),
            custom_field<E>("changes", "map", "none",
                            "amend: the contract keys it changes, with their new values (" + amendable_keys_text() +
                                ")",
                            [](E& e, const Tree& t, const Where& w, Reader& r) {
                                read_fields(e.changes, t, amendment_schema(), w, r);
                                if (!t.is_map()) return;
                                for (const TreeEntry& entry : t.entries)
                                    if (amendable(entry.key)) e.changed_keys.push_back(entry.key);
                                if (t.entries.empty()) r.error(t, w, "an amendment must change at least one key");
                            }),
            number_field<E>("value", &E::value, any_value, "",
                            "set: the new value; scale, shock: the multiplier; acquire: the price in USD"),
            month_field<E>("until", &E::until, "none", "forbid: last month of the window"),
            custom_field<E>("text", "text", "none", "free text for the events table",
                            [](E& e, const Tree& t, const Where& w, Reader& r) {
                                if (auto v = r.text(t, w)) e.text = *v;
                            }),
        };
        s[2].required = true;  // do
        return s;
    }();
    return schema;
}

void read_events(Scenario& sc, const Tree& t, const Where& w, Reader& r) {
    if (t.is_null()) return;
    if (!t.is_list()) {
        r.error(t, w, "expected a list of events, found " + t.describe());
        return;
    }
    for (std::size_t i = 0; i < t.items.size(); ++i) {
        const Where item = item_where(w, t.items[i], i);
        EventSpec e;
        read_fields(e, t.items[i], event_schema(), item, r);
        finish_event(e, t.items[i], item, r);
        sc.events.push_back(std::move(e));
    }
}

// ---- equity ---------------------------------------------------------------

namespace {

// Each target's stakes as read, to check that its holders own at most all of it.
using StakesByTarget = std::map<FirmId, std::vector<std::pair<const TreeEntry*, double>>>;

// One holder's {target: share}.
void read_stakes(Scenario& sc, const TreeEntry& holder_entry, const Where& w, Reader& r,
                 StakesByTarget& by_target) {
    const auto holder = r.firm(holder_entry.key_node(), w);
    const Where hw = w / holder_entry.key;
    if (!holder_entry.value.is_map()) {
        r.error(holder_entry.value, hw,
                "expected a map {target: share}, found " + holder_entry.value.describe());
        return;
    }
    for (const TreeEntry& e : holder_entry.value.entries) {
        const auto target = r.firm(e.key_node(), hw);
        const auto share = r.number(e.value, hw / e.key, unit_interval);
        if (holder && target && *holder == *target) {
            r.error_at(e.key_mark, hw, "a firm cannot hold equity in itself");
            continue;
        }
        if (!holder || !target || !share) continue;
        sc.equity.push_back(EquityStake{*holder, *target, *share});
        by_target[*target].emplace_back(&e, *share);
    }
}

void check_totals(const StakesByTarget& by_target, const Where& w, Reader& r) {
    for (const auto& [target, stakes] : by_target) {
        double total = 0;
        for (const auto& stake : stakes) total += stake.second;
        if (total > 1 + 1e-12)
            r.error_at(stakes.back().first->key_mark, w,
                       "holders of " + in_quotes(r.names().firms[target]) + " own " + show_number(total) +
                           " of it in total; a firm's holders may own at most 1");
    }
}

}  // namespace

void read_equity(Scenario& sc, const Tree& t, const Where& w, Reader& r) {
    if (t.is_null()) return;
    if (!t.is_map()) {
        r.error(t, w, "expected a map {holder: {target: share}}, found " + t.describe());
        return;
    }
    StakesByTarget by_target;
    for (const TreeEntry& holder_entry : t.entries) read_stakes(sc, holder_entry, w, r, by_target);
    check_totals(by_target, w, r);
    std::sort(sc.equity.begin(), sc.equity.end(), [](const EquityStake& a, const EquityStake& b) {
        return std::pair(a.holder, a.target) < std::pair(b.holder, b.target);
    });
}

}  // namespace entangle::loader
