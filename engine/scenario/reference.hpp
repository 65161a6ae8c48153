#pragma once
// The key reference of docs/scenarios.md, rendered from the schema so the
// documentation cannot drift from what the loader accepts.
#include <string>

namespace entangle {

// Markdown: one table per section (key, type, unit, default, range, description).
// docs/scenarios.md holds it verbatim between the markers below; a unit test
// checks it, and rewrites it when run with ENTANGLE_UPDATE_DOCS=1.
std::string scenario_reference_markdown();

inline constexpr const char* reference_begin_marker = "<!-- BEGIN GENERATED KEY REFERENCE -->";
inline constexpr const char* reference_end_marker = "<!-- END GENERATED KEY REFERENCE -->";

}  // namespace entangle
