//! The many-device property through a real server process over loopback (the campaign
//! itself is `tests/tests/convergence/campaign.rs`).

use doorstep_tests::ServerProcess;

#[path = "../convergence/campaign.rs"]
mod campaign;

#[test]
fn devices_converge_through_faults_and_partitions() -> anyhow::Result<()> {
    campaign::campaign(
        ServerProcess::start,
        1,
        campaign::cases_from("DOORSTEP_SYNC_CASES", 100),
        "over loopback",
    )
}
