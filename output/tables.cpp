#include "output/tables.hpp"

#include <cstring>

namespace entangle::h5 {

namespace {

Datatype fixed_string_type(std::size_t width) {
    Datatype t = own<Datatype>(H5Tcopy(H5T_C_S1), "copy string type", -1);
    check(H5Tset_size(t.get(), width), "set string size", -1);
    check(H5Tset_cset(t.get(), H5T_CSET_UTF8), "set string encoding", -1);
    // NUL-padded, like numpy's fixed-length bytes: h5py reads dtype S<width>.
    check(H5Tset_strpad(t.get(), H5T_STR_NULLPAD), "set string padding", -1);
    return t;
}

std::size_t slot_bytes(TableFormat::Kind kind, std::size_t width) {
    switch (kind) {
        case TableFormat::Kind::u32: return sizeof(std::uint32_t);
        case TableFormat::Kind::f64: return sizeof(double);
        case TableFormat::Kind::flag: return sizeof(std::int8_t);
        case TableFormat::Kind::text: return width > 0 ? width : sizeof(const char*);
    }
    return 0;
}

}  // namespace

void TableFormat::add(const char* name, Kind kind, std::size_t width) {
    columns_.push_back(Column{name, kind, width, row_bytes_});
    row_bytes_ += slot_bytes(kind, width);
}

bool TableFormat::has_variable_text() const {
    for (const Column& c : columns_)
        if (c.kind == Kind::text && c.width == 0) return true;
    return false;
}

TableFormat TableFormat::contracts(const TableTextBounds& b) {
    TableFormat f;
    f.add("point", Kind::u32);
    f.add("replication", Kind::u32);
    f.add("id", Kind::text, b.contract_id);
    f.add("kind", Kind::text, b.contract_kind);
    f.add("seller", Kind::text, b.firm);
    f.add("buyer", Kind::text, b.firm);
    f.add("signed", Kind::text, b.month);
    f.add("start", Kind::text, b.month);
    f.add("end", Kind::text, b.month);
    f.add("quantity_h100e", Kind::f64);
    f.add("price_usd_per_h100e_hour", Kind::f64);
    f.add("value_usd", Kind::f64);
    f.add("exclusive", Kind::flag);
    f.add("rofr", Kind::flag);
    f.add("until_agi", Kind::flag);
    f.add("status", Kind::text, b.status);
    f.add("end_reason", Kind::text, b.end_reason);
    return f;
}

TableFormat TableFormat::events(const TableTextBounds& b) {
    TableFormat f;
    f.add("point", Kind::u32);
    f.add("replication", Kind::u32);
    f.add("time", Kind::text, b.month);
    f.add("kind", Kind::text, b.event_kind);
    f.add("firms", Kind::text, b.event_firms);
    f.add("text", Kind::text);  // free text: always variable-length
    return f;
}

TableFormat TableFormat::of(hid_t dataset, const TableFormat& expected) {
    const Datatype stored = own<Datatype>(H5Dget_type(dataset), "get type of", dataset);
    TableFormat f;
    for (const Column& c : expected.columns_) {
        const int index = H5Tget_member_index(stored.get(), c.name);
        if (index < 0) {
            H5Eclear2(H5E_DEFAULT);
            throw OutputError("'" + file_name(dataset) + "': " + object_name(dataset) + " has no column '" + c.name + "'");
        }
        std::size_t width = 0;
        if (c.kind == Kind::text) {
            const Datatype member = own<Datatype>(H5Tget_member_type(stored.get(), static_cast<unsigned>(index)),
                                                  "get column type of", dataset, c.name);
            if (H5Tget_class(member.get()) != H5T_STRING)
                throw OutputError("'" + file_name(dataset) + "': column '" + std::string(c.name) + "' of " +
                                  object_name(dataset) + " is not text");
            if (check(H5Tis_variable_str(member.get()), "get column type of", dataset, c.name) == 0)
                width = H5Tget_size(member.get());
        }
        f.add(c.name, c.kind, width);
    }
    return f;
}

TableFormat TableFormat::contracts_of(hid_t dataset) { return of(dataset, contracts({})); }
TableFormat TableFormat::events_of(hid_t dataset) { return of(dataset, events({})); }

Datatype TableFormat::file_type() const { return compound_type(false); }

Datatype TableFormat::memory_type() const { return compound_type(true); }

// The row as stored (little-endian, fixed sizes) or as packed in memory (native).
Datatype TableFormat::compound_type(bool in_memory) const {
    Datatype type = own<Datatype>(H5Tcreate(H5T_COMPOUND, row_bytes_), "create table type", -1);
    const Datatype flag = bool_type(in_memory);
    const Datatype variable = string_type();
    for (const Column& c : columns_) {
        Datatype fixed;
        hid_t member = -1;
        switch (c.kind) {
            case Kind::u32: member = in_memory ? H5T_NATIVE_UINT32 : H5T_STD_U32LE; break;
            case Kind::f64: member = in_memory ? H5T_NATIVE_DOUBLE : H5T_IEEE_F64LE; break;
            case Kind::flag: member = flag.get(); break;
            case Kind::text:
                if (c.width > 0) fixed = fixed_string_type(c.width);
                member = c.width > 0 ? fixed.get() : variable.get();
                break;
        }
        check(H5Tinsert(type.get(), c.name, c.offset, member), "create table type", -1, c.name);
    }
    return type;
}

void RowPacker::begin_row() {
    bytes_.resize(bytes_.size() + format_->row_bytes());
    ++rows_;
    column_ = 0;
}

unsigned char* RowPacker::next(TableFormat::Kind kind) {
    const TableFormat::Column& c = format_->columns().at(column_++);
    if (c.kind != kind) throw OutputError(std::string("internal error: column '") + c.name + "' of " + table_ + " packed as another type");
    return bytes_.data() + bytes_.size() - format_->row_bytes() + c.offset;
}

void RowPacker::u32(std::uint32_t v) { std::memcpy(next(TableFormat::Kind::u32), &v, sizeof v); }
void RowPacker::f64(double v) { std::memcpy(next(TableFormat::Kind::f64), &v, sizeof v); }
void RowPacker::flag(bool v) {
    const std::int8_t byte = v ? 1 : 0;
    std::memcpy(next(TableFormat::Kind::flag), &byte, 1);
}
void RowPacker::text(const std::string& v) {
    const TableFormat::Column& c = format_->columns().at(column_);
    unsigned char* slot = next(TableFormat::Kind::text);
    if (c.width == 0) {
        const char* pointer = v.c_str();
        std::memcpy(slot, &pointer, sizeof pointer);
        return;
    }
    if (v.size() > c.width)
        throw OutputError(std::string("internal error: the value '") + v + "' of column '" + c.name + "' of " + table_ +
                          " is " + std::to_string(v.size()) + " bytes, longer than the " + std::to_string(c.width) +
                          " bytes the column was laid out with (engine/sweep_runner.cpp, table_text_bounds); "
                          "not written rather than cut");
    std::memcpy(slot, v.data(), v.size());  // the rest stays zero: NUL padding
}

void RowUnpacker::begin_row(std::size_t row) {
    row_ = at_ + row * format_->row_bytes();
    column_ = 0;
}

const unsigned char* RowUnpacker::next(TableFormat::Kind kind) {
    const TableFormat::Column& c = format_->columns().at(column_++);
    if (c.kind != kind) throw OutputError(std::string("internal error: column '") + c.name + "' read as another type");
    return row_ + c.offset;
}

std::uint32_t RowUnpacker::u32() {
    std::uint32_t v = 0;
    std::memcpy(&v, next(TableFormat::Kind::u32), sizeof v);
    return v;
}
double RowUnpacker::f64() {
    double v = 0;
    std::memcpy(&v, next(TableFormat::Kind::f64), sizeof v);
    return v;
}
bool RowUnpacker::flag() {
    std::int8_t v = 0;
    std::memcpy(&v, next(TableFormat::Kind::flag), 1);
    return v != 0;
}
std::string RowUnpacker::text() {
    const TableFormat::Column& c = format_->columns().at(column_);
    const unsigned char* slot = next(TableFormat::Kind::text);
    if (c.width == 0) {
        const char* pointer = nullptr;
        std::memcpy(&pointer, slot, sizeof pointer);
        return pointer ? pointer : "";
    }
    const char* chars = reinterpret_cast<const char*>(slot);
    return std::string(chars, strnlen(chars, c.width));
}

}  // namespace entangle::h5
