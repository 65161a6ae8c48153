#pragma once
// Sweeps over MPI ranks (docs/cluster.md): rank 0 hands out points one at a
// time to whichever rank asks (dynamic load balancing), its own workers
// included; each rank runs its points on its threads and journals them; rank
// 0 assembles the results file from every rank's journal at the end. Built
// only when CMake finds MPI (ENTANGLE_WITH_MPI); mpi.h stays in the .cpp.
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "engine/sweep_runner.hpp"

namespace entangle::mpi {

// MPI_Init_thread (serialized calls from any one thread) / MPI_Finalize.
class Session {
public:
    Session(int& argc, char**& argv);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    int rank() const { return rank_; }
    int size() const { return size_; }
    void barrier() const;
    int max_over_ranks(int value) const;  // MPI_Allreduce(MAX)
    [[noreturn]] void abort(int code) const;

private:
    int rank_ = 0, size_ = 1;
};

// Rank 0 passes the source of the points to run; other ranks pass nullptr and ask rank 0.
// On rank 0 a coordinator thread answers the others until each has been told
// there is nothing left (the list is done, or `cancel` was set).
class CoordinatedSource final : public PointSource {
public:
    CoordinatedSource(const Session& session, std::unique_ptr<PointSource> points, const std::atomic<bool>* cancel);
    ~CoordinatedSource() override;
    std::optional<std::uint32_t> next() override;
    // Rank 0: waits until every other rank has been told to stop. Call after the run.
    void finish();
    std::size_t handed_out() const;  // rank 0: points given to any rank so far

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace entangle::mpi
