//! Where the convergence campaign's tablets sync: a server process over loopback, or
//! two servers' routers over one database inside the test process.

use super::*;
use doorstep_core::server_identity::EnrollText;

/// Where the devices sync: a server process, or servers in this process.
pub(crate) trait Server {
    fn committee(&self, id: &str) -> anyhow::Result<()>;
    fn device(&self, committee: &str, role: &str, volunteer: &str) -> anyhow::Result<TestDevice>;
    /// How many servers (over one database) the devices may sync through.
    fn servers(&self) -> usize {
        1
    }
    /// A transport through server `via`.
    fn transport(&self, test: &TestDevice, via: usize) -> anyhow::Result<FaultyTransport>;
    /// Revokes an enrollment: a device, or one person of a shared tablet.
    fn revoke(&self, device_id: &str) -> anyhow::Result<()>;
    /// A one-time code for another volunteer of `committee` to be added to a tablet.
    fn member_text(&self, committee: &str, name: &str) -> anyhow::Result<EnrollText>;
    /// Enrolls a revoked device again with a new code.
    fn enroll_again(
        &self,
        test: &mut TestDevice,
        committee: &str,
        role: &str,
        name: &str,
    ) -> anyhow::Result<()>;
    /// Whether the server holds a change of a record.
    fn has_change(&self, doc: &DocId, hash: &ChangeHash) -> anyhow::Result<bool>;
    /// One sync without faults.
    fn sync(&self, test: &mut TestDevice) -> anyhow::Result<()> {
        test.device
            .sync_with(&mut self.transport(test, 0)?, &FAST_RETRY)?;
        Ok(())
    }
}

impl Server for ServerProcess {
    fn committee(&self, id: &str) -> anyhow::Result<()> {
        committee(self, id)
    }
    fn device(&self, committee: &str, role: &str, volunteer: &str) -> anyhow::Result<TestDevice> {
        TestDevice::enrolled(self, committee, role, volunteer)
    }
    fn transport(&self, test: &TestDevice, _via: usize) -> anyhow::Result<FaultyTransport> {
        FaultyTransport::new(&test.device, [])
    }
    fn revoke(&self, device_id: &str) -> anyhow::Result<()> {
        self.admin(&["device", "revoke", device_id])?;
        Ok(())
    }
    fn member_text(&self, committee: &str, name: &str) -> anyhow::Result<EnrollText> {
        enrollment_text(self, &[committee], "volunteer", name, "1h")
    }
    fn enroll_again(
        &self,
        test: &mut TestDevice,
        committee: &str,
        role: &str,
        name: &str,
    ) -> anyhow::Result<()> {
        let text = enrollment_text(self, &[committee], role, name, "1h")?;
        test.device.enroll(&text, "test tablet")?;
        Ok(())
    }
    fn has_change(&self, doc: &DocId, hash: &ChangeHash) -> anyhow::Result<bool> {
        Ok(server_db(&self.data_dir)?.int(&format!(
            "SELECT count(*) FROM changes WHERE doc_id = '{doc}' AND hash = '{hash}'"
        ))? > 0)
    }
}

impl Server for InProcessServer {
    fn committee(&self, id: &str) -> anyhow::Result<()> {
        InProcessServer::committee(self, id)
    }
    fn device(&self, committee: &str, role: &str, volunteer: &str) -> anyhow::Result<TestDevice> {
        let role = Role::parse(role).ok_or_else(|| anyhow::anyhow!("no role {role}"))?;
        InProcessServer::device_as(self, committee, role, volunteer)
    }
    fn servers(&self) -> usize {
        2
    }
    fn transport(&self, _test: &TestDevice, via: usize) -> anyhow::Result<FaultyTransport> {
        Ok(FaultyTransport::over(
            InProcessServer::transport_via(self, via),
            [],
        ))
    }
    fn revoke(&self, device_id: &str) -> anyhow::Result<()> {
        InProcessServer::revoke(self, device_id)
    }
    fn member_text(&self, committee: &str, name: &str) -> anyhow::Result<EnrollText> {
        let code = self.enrollment_code(&[committee], Role::Volunteer, name)?;
        self.enrollment_text(&code)
    }
    fn enroll_again(
        &self,
        test: &mut TestDevice,
        committee: &str,
        role: &str,
        name: &str,
    ) -> anyhow::Result<()> {
        let role = Role::parse(role).ok_or_else(|| anyhow::anyhow!("no role {role}"))?;
        InProcessServer::enroll_again(self, &mut test.device, committee, role, name)
    }
    fn has_change(&self, doc: &DocId, hash: &ChangeHash) -> anyhow::Result<bool> {
        InProcessServer::has_change(self, doc.as_str(), &hash.to_string())
    }
}
