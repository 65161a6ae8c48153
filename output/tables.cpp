#include "output/tables.hpp"

#include <cstddef>
#include <initializer_list>

namespace entangle::h5 {

namespace {

enum class Kind { u32, text, f64, flag };
struct Column {
    const char* name;
    std::size_t offset;
    Kind kind;
};

Datatype compound(std::initializer_list<Column> columns, std::size_t struct_size, bool file) {
    const Datatype text = string_type();
    const Datatype flag = bool_type(!file);
    auto base = [&](Kind k) -> hid_t {
        switch (k) {
            case Kind::u32:
                return file ? H5T_STD_U32LE : H5T_NATIVE_UINT32;
            case Kind::f64:
                return file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE;
            case Kind::text:
                return text.get();
            case Kind::flag:
                return flag.get();
        }
        return -1;
    };
    std::size_t size = 0;
    if (file)
        for (const Column& c : columns) size += H5Tget_size(base(c.kind));
    Datatype type =
        own<Datatype>(H5Tcreate(H5T_COMPOUND, file ? size : struct_size), "create table type", -1);
    std::size_t offset = 0;
    for (const Column& c : columns) {
        check(H5Tinsert(type.get(), c.name, file ? offset : c.offset, base(c.kind)), "create table type", -1,
              c.name);
        offset += H5Tget_size(base(c.kind));
    }
    return type;
}

}  // namespace

Datatype contract_type(bool file) {
    using R = ContractRowC;
    return compound({{"point", offsetof(R, point), Kind::u32},
                     {"replication", offsetof(R, replication), Kind::u32},
                     {"id", offsetof(R, id), Kind::text},
                     {"kind", offsetof(R, kind), Kind::text},
                     {"seller", offsetof(R, seller), Kind::text},
                     {"buyer", offsetof(R, buyer), Kind::text},
                     {"signed", offsetof(R, signed_month), Kind::text},
                     {"start", offsetof(R, start), Kind::text},
                     {"end", offsetof(R, end), Kind::text},
                     {"quantity_h100e", offsetof(R, quantity_h100e), Kind::f64},
                     {"price_usd_per_h100e_hour", offsetof(R, price_usd_per_h100e_hour), Kind::f64},
                     {"value_usd", offsetof(R, value_usd), Kind::f64},
                     {"exclusive", offsetof(R, exclusive), Kind::flag},
                     {"rofr", offsetof(R, rofr), Kind::flag},
                     {"until_agi", offsetof(R, until_agi), Kind::flag},
                     {"status", offsetof(R, status), Kind::text},
                     {"end_reason", offsetof(R, end_reason), Kind::text}},
                    sizeof(R), file);
}

Datatype event_type(bool file) {
    using R = EventRowC;
    return compound({{"point", offsetof(R, point), Kind::u32},
                     {"replication", offsetof(R, replication), Kind::u32},
                     {"time", offsetof(R, time), Kind::text},
                     {"kind", offsetof(R, kind), Kind::text},
                     {"firms", offsetof(R, firms), Kind::text},
                     {"text", offsetof(R, text), Kind::text}},
                    sizeof(R), file);
}

}  // namespace entangle::h5
