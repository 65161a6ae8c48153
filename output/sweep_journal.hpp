#pragma once
// The durable record of a sweep's completed points: an append-only journal
// per process (docs/sweeps.md, "Interruption and resume"). Each entry is one
// whole point, as the results file stores it (compressed chunks, drawn values,
// table rows), appended with write(2) once the point is complete and ended by
// a checksum. A process killed at any moment (SIGKILL included) leaves every
// entry it finished intact in the kernel's page cache and at most one torn
// entry at the end, which a resumed run detects and cuts off. The results
// file is assembled from the journals, points in order, when the sweep ends
// or stops; so it never depends on HDF5 surviving a kill mid-write.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "engine/record.hpp"
#include "output/output_error.hpp"

namespace entangle {

// The journals of results file OUT: OUT.journal-<k>, one per process (MPI rank).
std::filesystem::path journal_path_for(const std::filesystem::path& results, int process);
std::vector<std::filesystem::path> find_journals(const std::filesystem::path& results);

class JournalWriter {
public:
    // Creates the journal (replacing an old one) with a header holding
    // `identity` (the text that must match for a resume), or, with
    // append=true, opens an existing one (already checked by scan_journal and
    // cut to its valid length) to add entries after them.
    JournalWriter(std::filesystem::path path, const std::string& identity, bool append);
    ~JournalWriter();
    JournalWriter(const JournalWriter&) = delete;
    JournalWriter& operator=(const JournalWriter&) = delete;
    // One complete point: records with their encoded chunks (the arrays are not kept).
    void append(std::uint32_t point, const std::vector<ReplicationRecord>& records);
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
    int fd_ = -1;
    std::vector<unsigned char> buffer_;
};

struct JournalEntry {
    std::uint32_t point = 0;
    std::size_t journal = 0;  // index into the scanned paths
    std::uint64_t offset = 0;  // of the payload
    std::uint64_t length = 0;
};

struct JournalScan {
    std::string identity;
    std::vector<JournalEntry> entries;  // valid entries, in file order
    std::uint64_t valid_bytes = 0;      // where the valid part ends
    bool torn = false;                  // bytes after it (an entry cut by a kill): resume cuts them off
};

// Follows a journal as it grows (possibly written by another process, as
// under MPI): each poll() reads the entries appended since the last one and
// checks them; an entry still being written (short, or its checksum not yet
// right) is left for a later poll.
class JournalTail {
public:
    JournalTail(std::filesystem::path path, std::size_t index) : path_(std::move(path)), index_(index) {}
    // Hands `checked` each new entry once its checksum is right, with its
    // payload while it is in memory (read_journal_payload decodes it: the
    // caller need not read it again). `settled`: the journal is no longer
    // written (the sweep ended), so a missing file or a damaged header is an
    // error (OutputError) rather than a journal not yet started, and bytes
    // after the last valid entry are a torn entry.
    using Checked = std::function<void(const JournalEntry&, std::span<const unsigned char> payload)>;
    void poll(bool settled, const Checked& checked);
    const std::filesystem::path& path() const { return path_; }
    const std::string& identity() const { return identity_; }  // empty until the header is read
    bool started() const { return started_; }
    std::uint64_t valid_bytes() const { return at_; }

private:
    std::filesystem::path path_;
    std::size_t index_ = 0;
    bool started_ = false;  // header read
    std::string identity_;
    std::uint64_t at_ = 0;  // where the next entry starts
    std::vector<unsigned char> payload_;  // the entry being checked; kept to be reused
};

// Reads a journal's header and checks every entry. Throws OutputError for a
// file that is not a journal.
JournalScan scan_journal(const std::filesystem::path& path, std::size_t index = 0);
// Cuts a journal to `bytes` (its valid part).
void truncate_journal(const std::filesystem::path& path, std::uint64_t bytes);
// The records of one entry, with their encoded chunks, drawn values and rows.
std::vector<ReplicationRecord> read_journal_entry(const std::filesystem::path& path, const JournalEntry& entry);
// The same from an entry's payload already in memory.
std::vector<ReplicationRecord> read_journal_payload(std::span<const unsigned char> payload, std::uint32_t point);

}  // namespace entangle
