#pragma once
// A YAML document as a plain tree whose every node remembers the file, line
// and column it came from. yaml-cpp parses; everything after parsing (merging
// `extends`, applying --set, validating) works on this tree, so a problem in a
// merged scenario still points into the file that wrote the offending text.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/scenario/problems.hpp"

namespace entangle::loader {

struct TreeEntry;

struct Tree {
    enum class Kind { null, scalar, map, list };

    Kind kind = Kind::null;
    std::string text;     // scalar text as written
    bool quoted = false;  // a quoted scalar: a string even if it reads like a number or a bool
    Mark mark;
    std::vector<TreeEntry> entries;  // map entries in file order (keys unique)
    std::vector<Tree> items;         // list items

    bool is_null() const { return kind == Kind::null; }
    bool is_scalar() const { return kind == Kind::scalar; }
    bool is_map() const { return kind == Kind::map; }
    bool is_list() const { return kind == Kind::list; }

    const Tree* find(std::string_view key) const;
    Tree* find(std::string_view key);
    const TreeEntry* find_entry(std::string_view key) const;
    void erase(std::string_view key);
    std::vector<std::string> keys() const;
    // For messages: 'text', "a map", "a list" or "nothing".
    std::string describe() const;
};

struct TreeEntry {
    std::string key;
    Mark key_mark;
    Tree value;

    // The key as a scalar node, for keys that are values themselves (a chip in capacity_per_month).
    Tree key_node() const { return Tree{Tree::Kind::scalar, key, false, key_mark, {}, {}}; }
};

// Parses YAML text. Syntax errors, non-scalar keys and duplicate keys are
// reported to `problems`; nullopt after a syntax error.
// `origin` locates the text: its file, and the line and column of its first
// character (a --set value sits inside a command-line argument). A second
// document is reported as one `holder` ("a scenario file") does not hold.
std::optional<Tree> parse_yaml(std::string_view text, const Mark& origin, Problems& problems,
                               std::string_view holder);

// Merges `overlay` into `base` key by key: maps merge recursively; lists,
// scalars, nulls, time paths and distributions in the overlay replace what
// the base had.
void merge_into(Tree& base, const Tree& overlay);

// The whole text of a regular file; nullopt when it cannot be read.
std::optional<std::string> read_text(const std::filesystem::path& path);

// YAML text of the tree (block style; maps of plain values in flow style).
std::string emit_yaml(const Tree& tree);

}  // namespace entangle::loader
