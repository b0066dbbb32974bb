//! The many-device property in process: 2,000 cases (`DOORSTEP_SYNC_CASES_IN_PROCESS`)
//! through the server's router called directly, one runner per core, each with its own
//! server. A test binary of its own, so that it has the machine to itself; the campaign
//! is `convergence/campaign.rs`, shared with the loopback run in `sync`.

use doorstep_tests::in_process::InProcessServer;

#[path = "convergence/campaign.rs"]
mod campaign;

#[test]
fn devices_converge_in_process_through_faults_and_partitions() -> anyhow::Result<()> {
    // Its server is always SQLite: the PostgreSQL run of the sync suite does not run it.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    campaign::campaign(
        InProcessServer::start,
        u32::try_from(cores).unwrap_or(1),
        campaign::cases_from("DOORSTEP_SYNC_CASES_IN_PROCESS", 2_000),
        "in process",
    )
}
