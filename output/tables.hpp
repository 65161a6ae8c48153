#pragma once
// Private to output/: the in-memory rows and HDF5 compound types of
// /tables/contracts and /tables/events, shared by the writer and the reader.
// Text columns are variable-length UTF-8 strings, flags h5py bools (int8 enum),
// point/replication uint32, money and quantities float64.
#include <cstdint>

#include "output/hdf5_handle.hpp"

namespace entangle::h5 {

struct ContractRowC {
    std::uint32_t point, replication;
    const char *id, *kind, *seller, *buyer, *signed_month, *start, *end;
    double quantity_h100e, price_usd_per_h100e_hour, value_usd;
    std::int8_t exclusive, rofr, until_agi;
    const char *status, *end_reason;
};

struct EventRowC {
    std::uint32_t point, replication;
    const char *time, *kind, *firms, *text;
};

// `file`: standard little-endian, packed (what is stored); otherwise the
// native layout of the structs above (what H5Dwrite/H5Dread take).
Datatype contract_type(bool file);
Datatype event_type(bool file);

}  // namespace entangle::h5
