//! The supervisor's console: what a supervisor's device reads beyond its records — the
//! sync log of their committees (each entry opened to the fields it changed, from the
//! records' own Automerge history), the state of the log's hash chain, the enrolled
//! devices and their revocation — and what it works out from the records it holds: the
//! review queue and the overview (counts, and the yearly pension certifications:
//! [`crate::certifications`]).
//!
//! The log, the chain and the devices live on the server and need a connection; the
//! queue and the overview come from the records synced to the device and work offline.

use std::collections::BTreeMap;

use doorstep_core::DocId;
use doorstep_core::application::{EventKind, Status};
use doorstep_core::certification::CertificationState;
use doorstep_core::date::Ymd;
use doorstep_core::history::HistoryEntry;
use doorstep_core::mask::mask_record_value;
use doorstep_core::protocol::{ChainState, DeviceInfo, LogEntry, LogPage, Role};
use doorstep_core::value::FieldValue;
use serde::{Deserialize, Serialize};

use crate::certifications::CertificationView;
use crate::device::Device;
use crate::error::DeviceError;
use crate::projection::committee_or;
use crate::sync::{RequestSigner, RetryPolicy, SyncReport, Transport, exchange};

/// Filters of a sync-log page (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct LogFilter {
    #[serde(default)]
    pub committee: Option<String>,
    #[serde(default)]
    pub device: Option<String>,
    #[serde(default)]
    pub volunteer: Option<String>,
    /// From this time (ms), inclusive.
    #[serde(default)]
    pub from: Option<i64>,
    /// Until this time (ms), exclusive.
    #[serde(default)]
    pub to: Option<i64>,
    #[serde(default)]
    pub conflicts_only: bool,
    /// The previous page's `next_before`.
    #[serde(default)]
    pub before: Option<i64>,
    #[serde(default)]
    pub limit: Option<u32>,
}

impl LogFilter {
    /// Whether an entry, by its own (signed) content, is one this filter asks for: the
    /// server chose it by copies of that content, which are not proved.
    pub(crate) fn admits(&self, e: &LogEntry) -> bool {
        let wanted = |f: &Option<String>, v: &str| {
            f.as_deref()
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .is_none_or(|f| f == v)
        };
        wanted(&self.committee, &e.committee)
            && wanted(&self.device, &e.device_id)
            && wanted(&self.volunteer, &e.volunteer)
            && self.from.is_none_or(|from| e.time >= from)
            && self.to.is_none_or(|to| e.time < to)
            && (!self.conflicts_only || !e.conflicts.is_empty())
    }

    /// The query string of `GET /v1/log`.
    fn query(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        let mut text = |key, value: &Option<String>| {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                pairs.push((key, v.to_owned()));
            }
        };
        text("committee", &self.committee);
        text("device", &self.device);
        text("volunteer", &self.volunteer);
        for (key, value) in [
            ("from", self.from),
            ("to", self.to),
            ("before", self.before),
            ("limit", self.limit.map(i64::from)),
        ] {
            if let Some(v) = value {
                pairs.push((key, v.to_string()));
            }
        }
        if self.conflicts_only {
            pairs.push(("conflicts_only", "true".into()));
        }
        let mut url = reqwest::Url::parse("http://query.invalid/v1/log").unwrap_or_else(|_| {
            unreachable!("a constant URL parses");
        });
        if !pairs.is_empty() {
            url.query_pairs_mut().extend_pairs(pairs);
        }
        match url.query() {
            Some(q) => format!("/v1/log?{q}"),
            None => "/v1/log".to_owned(),
        }
    }
}

/// What one log entry did to one record.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct RecordChanges {
    pub doc_id: String,
    /// `resident`, `authorization` or `application`; empty when this device does not
    /// hold the record.
    pub kind: String,
    /// The resident's name (for an application: whose it is).
    pub resident_name: String,
    /// For an application: its service code.
    pub service: String,
    /// Whether the record is on this device (sync to fetch it if not).
    pub present: bool,
    /// The entry's changes of this record, each with who, when and its fields.
    pub changes: Vec<HistoryEntry>,
    /// Change hashes the entry names that this device does not hold yet.
    pub missing: Vec<String>,
}

/// A submitted application waiting for a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct QueueItem {
    pub id: DocId,
    pub service: String,
    pub resident: String,
    pub resident_name: String,
    pub committee: String,
    /// The volunteer who submitted it.
    pub submitted_by: String,
    /// When it was (last) submitted, ms.
    pub submitted_at: i64,
    /// Whole days since then.
    pub age_days: i64,
    pub conflicted: bool,
}

/// One count of the overview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Count {
    pub committee: String,
    pub service: String,
    #[ts(as = "Status")]
    pub status: String,
    pub count: u64,
}

/// An enrolled device as the devices screen lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct DeviceView {
    #[serde(flatten)]
    pub info: DeviceInfo,
    /// The device this window runs on (it cannot revoke itself).
    pub this_device: bool,
    /// For this device: the key the server bound is the one in this device's keyring
    /// (always `true` for the others, which this device cannot check).
    pub key_matches: bool,
}

/// How many residents of a committee are in one certification state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CertificationCount {
    pub committee: String,
    pub state: CertificationState,
    pub count: u64,
}

/// The overview of a supervisor's committees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Overview {
    /// Applications by committee, service and status.
    pub counts: Vec<Count>,
    /// Residents per committee.
    pub residents: Vec<(String, u64)>,
    /// Residents followed for the yearly pension certification, by committee and state.
    pub certification_counts: Vec<CertificationCount>,
    /// Those whose certification needs a visit this month (overdue, or due by the end
    /// of the month), overdue first.
    pub to_visit: Vec<CertificationView>,
}

impl Device {
    /// The device's committee when it has exactly one.
    pub fn home_committee(&self) -> Option<String> {
        let enrollment = self.enrollment().ok()??;
        match enrollment.committees.as_slice() {
            [one] => Some(one.id.clone()),
            _ => None,
        }
    }

    /// Sends one request of the console to the enrolled server and decodes its JSON.
    fn console_request<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
    ) -> Result<T, DeviceError> {
        let enrollment = self.enrollment()?.ok_or(DeviceError::NotEnrolled)?;
        if enrollment.role != Role::Supervisor {
            return Err(DeviceError::NotSupervisor);
        }
        let who = self.identity_of(&self.active)?;
        let mut transport = self.transport()?;
        let retry = RetryPolicy {
            attempts: 2,
            ..RetryPolicy::default()
        };
        let answered = exchange(
            &mut transport,
            &retry,
            method,
            path,
            None,
            Some(&RequestSigner::new(who.token, who.key)),
            Vec::new(),
            &mut SyncReport::default(),
        );
        // A certificate the transport moved to is kept, as after a sync.
        self.keep_server_trust(transport.server_trust())?;
        let body = answered?;
        serde_json::from_slice(&body)
            .map_err(|e| DeviceError::Network(format!("unexpected answer from the server: {e}")))
    }

    /// A page of the sync log of this supervisor's committees, newest first.
    /// Every entry is checked for inclusion in its committee's signed checkpoint, and
    /// that checkpoint against the one this device holds: a page that does not hold
    /// stops syncing and is refused (see `sync::log_trust`).
    pub fn log_page(&self, filter: &LogFilter) -> Result<LogPage, DeviceError> {
        self.ensure_log_trusted()?;
        let held_notes = self.log_held()?;
        let held: Vec<String> = held_notes
            .iter()
            .filter_map(|h| {
                let size = h.note.lines().nth(1)?;
                Some(format!("{}:{size}", h.committee))
            })
            .collect();
        let mut path = filter.query();
        if !held.is_empty() {
            let mut url = reqwest::Url::parse("http://query.invalid/")
                .unwrap_or_else(|_| unreachable!("a constant URL parses"));
            url.query_pairs_mut().append_pair("held", &held.join(","));
            let sep = if path.contains('?') { '&' } else { '?' };
            path = format!("{path}{sep}{}", url.query().unwrap_or_default());
        }
        let page: LogPage = self.console_request("GET", &path)?;
        self.check_log_page(&held_notes, &page.checkpoints, &page.entries)?;
        if let Some(e) = page.entries.iter().find(|e| !filter.admits(e)) {
            // Proved to be in the log, but not what was asked for: the server's copies
            // of its content (the filter columns) were changed.
            return Err(self.stop_for_entry(e, "it is not what the filter asked for".into()));
        }
        Ok(page)
    }

    /// Whether each committee's log chain holds, or where it breaks.
    pub fn chain_states(&self) -> Result<Vec<ChainState>, DeviceError> {
        self.console_request("GET", "/v1/chain")
    }

    /// The devices enrolled in this supervisor's committees.
    pub fn enrolled_devices(&self) -> Result<Vec<DeviceInfo>, DeviceError> {
        self.console_request("GET", "/v1/devices")
    }

    /// The devices enrolled in this supervisor's committees, each marked whether it is
    /// this one (which cannot revoke itself).
    pub fn enrolled_device_views(&self) -> Result<Vec<DeviceView>, DeviceError> {
        let me = self.enrollment()?.map(|e| e.device_id).unwrap_or_default();
        let mine = self.public_key()?.fingerprint();
        Ok(self
            .enrolled_devices()?
            .into_iter()
            .map(|info| {
                let this_device = info.device_id == me;
                DeviceView {
                    key_matches: !this_device || info.key_fingerprint == mine,
                    this_device,
                    info,
                }
            })
            .collect())
    }

    /// Revokes a lost device: its next sync is refused with `device_revoked`.
    pub fn revoke_device(&self, device_id: &str) -> Result<DeviceInfo, DeviceError> {
        let id = device_id.trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
            return Err(DeviceError::NotFound(id.to_owned()));
        }
        self.console_request("POST", &format!("/v1/devices/{id}/revoke"))
    }

    /// What a log entry did to each record it carried up: every change of the entry
    /// with its author, time and fields from what to what, read from the records this
    /// device holds.
    pub fn log_entry_records(&self, entry: &LogEntry) -> Result<Vec<RecordChanges>, DeviceError> {
        let mut out = Vec::with_capacity(entry.received.len());
        for doc in &entry.received {
            let Some(id) = DocId::parse(&doc.doc_id) else {
                continue;
            };
            let present = self
                .store
                .conn()
                .query_row(
                    "SELECT kind FROM docs WHERE doc_id = ?1 AND quarantined IS NULL",
                    [id.as_str()],
                    |r| r.get::<_, String>(0),
                )
                .ok();
            let Some(kind) = present else {
                out.push(RecordChanges {
                    doc_id: doc.doc_id.clone(),
                    kind: String::new(),
                    resident_name: String::new(),
                    service: String::new(),
                    present: false,
                    changes: Vec::new(),
                    missing: doc.hashes.clone(),
                });
                continue;
            };
            let history = self.history(&id)?;
            let changes: Vec<HistoryEntry> = history
                .into_iter()
                .filter(|h| doc.hashes.contains(&h.change))
                .collect();
            let missing = doc
                .hashes
                .iter()
                .filter(|h| !changes.iter().any(|c| &c.change == *h))
                .cloned()
                .collect();
            let (resident_name, service) = self.record_title(&id, &kind)?;
            let mut changes = changes;
            self.mask_personal_numbers(&kind, &service, &mut changes);
            out.push(RecordChanges {
                doc_id: doc.doc_id.clone(),
                kind,
                resident_name,
                service,
                present: true,
                changes,
                missing,
            });
        }
        Ok(out)
    }

    /// Personal numbers in a record's history, masked by the rule of every screen
    /// ([`doorstep_core::mask`]): the log shows that one changed, not the number.
    fn mask_personal_numbers(&self, kind: &str, service: &str, changes: &mut [HistoryEntry]) {
        let service = self.catalog.service(service);
        let mask = |field: &str, v: &mut Option<FieldValue>| {
            if let Some(v) = v {
                mask_record_value(kind, service, field, v);
            }
        };
        for change in changes {
            for f in &mut change.fields {
                let field = f.field.clone();
                mask(&field, &mut f.from);
                mask(&field, &mut f.to);
            }
        }
    }

    /// The resident's name (and the service, for an application) a record is about.
    fn record_title(&self, id: &DocId, kind: &str) -> Result<(String, String), DeviceError> {
        let sql = match kind {
            "resident" => "SELECT name, '' FROM residents WHERE doc_id = ?1",
            "application" => {
                "SELECT coalesce(r.name, ''), a.service FROM applications a
                 LEFT JOIN residents r ON r.doc_id = a.resident WHERE a.doc_id = ?1"
            }
            "authorization" => {
                "SELECT coalesce(r.name, ''), '' FROM authorizations a
                 LEFT JOIN residents r ON r.doc_id = a.resident WHERE a.doc_id = ?1"
            }
            _ => return Ok((String::new(), String::new())),
        };
        Ok(self
            .store
            .conn()
            .query_row(sql, [id.as_str()], |r| r.try_into())
            .unwrap_or_default())
    }

    /// Submitted applications waiting for a decision, oldest submission first.
    pub fn review_queue(&self, now_ms: i64) -> Result<Vec<QueueItem>, DeviceError> {
        let rows: Vec<(String, String, String, String, Option<String>, bool)> = {
            let mut stmt = self.store.conn().prepare_cached(
                "SELECT a.doc_id, a.service, a.resident, coalesce(r.name, ''), d.committee,
                        a.conflicted
                 FROM applications a JOIN docs d ON d.doc_id = a.doc_id
                 LEFT JOIN residents r ON r.doc_id = a.resident
                 WHERE a.status = 'submitted' AND d.quarantined IS NULL",
            )?;
            let rows = stmt.query_map([], |r| r.try_into())?;
            rows.collect::<Result<_, _>>()?
        };
        let home = self.home_committee();
        let mut out = Vec::with_capacity(rows.len());
        for (doc_id, service, resident, resident_name, committee, conflicted) in rows {
            let Some(id) = DocId::parse(&doc_id) else {
                continue;
            };
            let app = self.application(&id)?;
            let submitted = app
                .events
                .iter()
                .rev()
                .find(|e| e.kind == EventKind::Submitted);
            let (submitted_by, submitted_at) =
                submitted.map_or((String::new(), app.created_at), |e| (e.by.clone(), e.at));
            out.push(QueueItem {
                id,
                service,
                resident,
                resident_name,
                committee: committee_or(committee, home.as_deref()),
                submitted_by,
                submitted_at,
                age_days: (now_ms - submitted_at).max(0) / 86_400_000,
                conflicted,
            });
        }
        out.sort_by(|a, b| (a.submitted_at, &a.id).cmp(&(b.submitted_at, &b.id)));
        Ok(out)
    }

    /// Counts by committee, service and status; residents per committee; and the
    /// pension certifications falling due within 30 days of `today`.
    pub fn overview(&self, today: Ymd) -> Result<Overview, DeviceError> {
        let conn = self.store.conn();
        let home = self.home_committee();
        let mut counts = Vec::new();
        {
            let mut stmt = conn.prepare_cached(
                "SELECT d.committee, a.service, a.status, count(*)
                 FROM applications a JOIN docs d ON d.doc_id = a.doc_id
                 WHERE d.quarantined IS NULL
                 GROUP BY d.committee, a.service, a.status",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?;
            let mut merged: BTreeMap<(String, String, String), u64> = BTreeMap::new();
            for row in rows {
                let (committee, service, status, n) = row?;
                *merged
                    .entry((committee_or(committee, home.as_deref()), service, status))
                    .or_default() += u64::try_from(n).unwrap_or(0);
            }
            for ((committee, service, status), count) in merged {
                counts.push(Count {
                    committee,
                    service,
                    status,
                    count,
                });
            }
        }
        let mut residents: BTreeMap<String, u64> = BTreeMap::new();
        {
            let mut stmt = conn.prepare_cached(
                "SELECT d.committee, count(*) FROM residents r JOIN docs d ON d.doc_id = r.doc_id
                 WHERE d.quarantined IS NULL GROUP BY d.committee",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?))
            })?;
            for row in rows {
                let (committee, n) = row?;
                *residents
                    .entry(committee_or(committee, home.as_deref()))
                    .or_default() += u64::try_from(n).unwrap_or(0);
            }
        }
        let certifications = self.certifications(today)?;
        let mut by_state: BTreeMap<(String, CertificationState), u64> = BTreeMap::new();
        for c in &certifications {
            *by_state.entry((c.committee.clone(), c.state)).or_default() += 1;
        }
        Ok(Overview {
            counts,
            residents: residents.into_iter().collect(),
            certification_counts: by_state
                .into_iter()
                .map(|((committee, state), count)| CertificationCount {
                    committee,
                    state,
                    count,
                })
                .collect(),
            to_visit: certifications.into_iter().filter(|c| c.to_visit).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_filters_become_an_encoded_query() {
        assert_eq!(LogFilter::default().query(), "/v1/log");
        let filter = LogFilter {
            committee: Some("c1".into()),
            volunteer: Some(" 测试 甲 ".into()),
            device: Some("  ".into()),
            from: Some(5),
            conflicts_only: true,
            ..LogFilter::default()
        };
        assert_eq!(
            filter.query(),
            "/v1/log?committee=c1&volunteer=%E6%B5%8B%E8%AF%95+%E7%94%B2&from=5&conflicts_only=true"
        );
    }
}
