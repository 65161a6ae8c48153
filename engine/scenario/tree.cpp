#include "engine/scenario/tree.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>

#include "engine/time.hpp"

namespace entangle::loader {

const Tree* Tree::find(std::string_view key) const {
    const TreeEntry* e = find_entry(key);
    return e ? &e->value : nullptr;
}

Tree* Tree::find(std::string_view key) {
    return const_cast<Tree*>(std::as_const(*this).find(key));
}

const TreeEntry* Tree::find_entry(std::string_view key) const {
    const auto it =
        std::find_if(entries.begin(), entries.end(), [&](const TreeEntry& e) { return e.key == key; });
    return it == entries.end() ? nullptr : &*it;
}

void Tree::erase(std::string_view key) {
    std::erase_if(entries, [&](const TreeEntry& e) { return e.key == key; });
}

std::vector<std::string> Tree::keys() const {
    std::vector<std::string> out;
    for (const TreeEntry& e : entries) out.push_back(e.key);
    return out;
}

std::string Tree::describe() const {
    switch (kind) {
        case Kind::null:
            return "nothing";
        case Kind::scalar:
            return in_quotes(text);
        case Kind::map:
            return entries.empty() ? "an empty map" : "a map";
        case Kind::list:
            return "a list";
    }
    return "nothing";
}

namespace {

class Converter {
public:
    Converter(const Mark& origin, Problems& problems) : origin_(origin), problems_(problems) {}

    Tree convert(const YAML::Node& node, const Mark& fallback, std::size_t depth = 0) const {
        Tree t;
        t.mark = locate(node.Mark(), fallback);
        // Aliases can make a small file expand to billions of values: stop at a size no
        // scenario reaches, with one message, instead of exhausting memory.
        if (++values_ > max_values) {
            if (values_ == max_values + 1)
                problems_.add(t.mark, "the file expands to more than " + std::to_string(max_values) +
                                          " values (anchors and aliases repeated too deeply?)");
            return t;
        }
        // An alias inside the node it names (`a: &x {b: *x}`) makes the node its own
        // child: without a bound the descent only ends when the stack does.
        if (depth > max_depth) {
            if (!too_deep_) {
                too_deep_ = true;
                problems_.add(t.mark, "values nested more than " + std::to_string(max_depth) +
                                          " levels deep (an alias used inside the anchor it refers to?)");
            }
            return t;
        }
        switch (node.Type()) {
            case YAML::NodeType::Scalar:
                t.kind = Tree::Kind::scalar;
                t.text = node.Scalar();
                t.quoted = node.Tag() == "!";  // yaml-cpp tags quoted scalars "!" and plain ones "?"
                break;
            case YAML::NodeType::Sequence:
                t.kind = Tree::Kind::list;
                for (const YAML::Node& item : node) t.items.push_back(convert(item, t.mark, depth + 1));
                break;
            case YAML::NodeType::Map:
                t.kind = Tree::Kind::map;
                for (const auto& kv : node) add_entry(t, kv.first, kv.second, depth + 1);
                break;
            default:
                t.kind = Tree::Kind::null;
                break;
        }
        return t;
    }

private:
    Mark locate(const YAML::Mark& m, const Mark& fallback) const {
        if (m.line < 0) return fallback;
        // Columns of the first line are offset by where the text starts.
        const int column = m.column + 1 + (m.line == 0 ? origin_.column - 1 : 0);
        return Mark{origin_.file, origin_.line + m.line, column};
    }

    void add_entry(Tree& map, const YAML::Node& key, const YAML::Node& value, std::size_t depth) const {
        const Mark key_mark = locate(key.Mark(), map.mark);
        if (!key.IsScalar()) {
            problems_.add(key_mark, "a key must be a plain word, not a map or a list");
            return;
        }
        if (const TreeEntry* first = map.find_entry(key.Scalar())) {
            problems_.add(key_mark, "duplicate key " + in_quotes(key.Scalar()) + " (first given at line " +
                                        std::to_string(first->key_mark.line) + ")");
            return;
        }
        Tree v = convert(value, key_mark, depth);
        // An empty value (`key:`) is located by yaml-cpp at the next token; point at its key instead.
        if (v.is_null() && v.mark.line != key_mark.line) v.mark = key_mark;
        map.entries.push_back(TreeEntry{key.Scalar(), key_mark, std::move(v)});
    }

    static constexpr std::size_t max_values = 250'000;
    // Far beyond any scenario or sweep file (they nest a few levels), far below the stack's limit.
    static constexpr std::size_t max_depth = 100;
    Mark origin_;
    Problems& problems_;
    mutable std::size_t values_ = 0;
    mutable bool too_deep_ = false;
};

bool all_scalars(const Tree& t) {
    return std::all_of(t.entries.begin(), t.entries.end(),
                       [](const TreeEntry& e) { return !e.value.is_map() && !e.value.is_list(); });
}

void emit(YAML::Emitter& out, const Tree& t) {
    switch (t.kind) {
        case Tree::Kind::null:
            out << YAML::Null;
            break;
        case Tree::Kind::scalar:
            if (t.quoted)
                out << YAML::DoubleQuoted << t.text;
            else
                out << t.text;
            break;
        case Tree::Kind::list:
            if (!t.items.empty() &&
                std::all_of(t.items.begin(), t.items.end(), [](const Tree& i) { return i.is_scalar(); }))
                out << YAML::Flow;
            out << YAML::BeginSeq;
            for (const Tree& item : t.items) emit(out, item);
            out << YAML::EndSeq;
            break;
        case Tree::Kind::map:
            // Short maps of plain values (time paths, distributions) read best on one line.
            if (!t.entries.empty() && all_scalars(t) && t.entries.size() <= 6) out << YAML::Flow;
            out << YAML::BeginMap;
            for (const TreeEntry& e : t.entries) {
                out << YAML::Key << e.key << YAML::Value;
                emit(out, e.value);
            }
            out << YAML::EndMap;
            break;
    }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A number such as 2, 0.73 or -1.5e-05 (the usual --set value, and every swept number):
// one plain scalar to yaml-cpp, read here without building a parser for it.
bool is_plain_number(std::string_view text) {
    std::size_t i = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
    if (i == text.size() || !is_digit(text[i])) return false;
    while (i < text.size() && (is_digit(text[i]) || text[i] == '.')) ++i;
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
        ++i;
        if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
        if (i == text.size()) return false;
        while (i < text.size() && is_digit(text[i])) ++i;
    }
    return i == text.size();
}

// Where each document of a YAML text starts (its `---`, when it has one); nothing else is built.
class DocumentStarts final : public YAML::EventHandler {
public:
    std::vector<YAML::Mark> marks;

    void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
};

// The start of document `index` of `text`.
YAML::Mark document_start(const std::string& text, std::size_t index) {
    std::istringstream in(text);
    YAML::Parser parser(in);
    DocumentStarts starts;
    while (starts.marks.size() <= index && parser.HandleNextDocument(starts)) {
    }
    return starts.marks.size() <= index ? YAML::Mark::null_mark() : starts.marks[index];
}

// A place in `text`, given 0-based as yaml-cpp counts, where `origin` is the text's first character.
Mark place(const Mark& origin, int line, int column) {
    line = std::max(line, 0), column = std::max(column, 0) + 1;
    return Mark{origin.file, origin.line + line, column + (line == 0 ? origin.column - 1 : 0)};
}
}  // namespace

std::optional<Tree> parse_yaml(std::string_view text, const Mark& origin, Problems& problems,
                               std::string_view holder) {
    if (is_plain_number(text)) return Tree{Tree::Kind::scalar, std::string(text), false, origin, {}, {}};
    const Converter converter(origin, problems);
    try {
        const std::string copy(text);
        // A text of one document costs what YAML::Load does.
        const std::vector<YAML::Node> documents = YAML::LoadAll(copy);
        // A document after the first would be silently ignored (an empty one, `---` alone, holds nothing).
        const auto more = std::find_if(documents.begin() + std::min<std::size_t>(documents.size(), 1),
                                       documents.end(), [](const YAML::Node& d) { return !d.IsNull(); });
        if (more != documents.end()) {
            const YAML::Mark start = document_start(copy, static_cast<std::size_t>(more - documents.begin()));
            const YAML::Mark at = start.line >= 0 ? start : more->Mark();
            problems.add(place(origin, at.line, at.column),
                         "a second YAML document; " + std::string(holder) + " holds one");
        }
        return converter.convert(documents.empty() ? YAML::Node() : documents.front(), origin);
    } catch (const YAML::Exception& e) {  // a ParserException, or nesting too deep: both carry a mark
        problems.add(place(origin, e.mark.line, e.mark.column), "YAML syntax error: " + e.msg);
        return std::nullopt;
    }
}

namespace {
// A time path or a distribution: one value, which an overlay replaces whole
// (merging knots, or a uniform's keys into a normal's, would make a value nobody wrote).
bool is_value_map(const Tree& t) {
    if (!t.is_map() || t.entries.empty()) return false;
    if (t.find("dist")) return true;
    return std::all_of(t.entries.begin(), t.entries.end(),
                       [](const TreeEntry& e) { return parse_month(e.key).has_value(); });
}
}  // namespace

void merge_into(Tree& base, const Tree& overlay) {
    if (!base.is_map() || !overlay.is_map() || is_value_map(base) || is_value_map(overlay)) {
        base = overlay;
        return;
    }
    for (const TreeEntry& e : overlay.entries) {
        if (Tree* existing = base.find(e.key))
            merge_into(*existing, e.value);
        else
            base.entries.push_back(e);
    }
}

std::string emit_yaml(const Tree& tree) {
    YAML::Emitter out;
    emit(out, tree);
    return std::string(out.c_str()) + "\n";
}

}  // namespace entangle::loader
