//! The yearly pension certification of each resident this device holds: judged by
//! [`doorstep_core::certification`] from the applications' rows (the day each was filed
//! and its government reference, the last certification a volunteer recorded) and the
//! resident's birthday, never by loading a document.
//!
//! A resident is followed once they have a pension-certification application that was
//! not rejected: they receive a pension and the committee certifies it for them.

use std::collections::BTreeMap;

use doorstep_core::DocId;
use doorstep_core::application::Status;
use doorstep_core::certification::{
    CertificationState, CertifiedBy, LastCertification, certification_year,
};
use doorstep_core::date::{Ymd, format_ymd, parse_ymd};
use rusqlite::params;
use serde::Serialize;

use crate::device::Device;
use crate::docs;
use crate::error::DeviceError;
use crate::projection::{self, committee_or};
use crate::store::{REPROJECT_APPLICATIONS, REPROJECT_RESIDENTS};

/// The service whose yearly certification is followed.
pub const PENSION_CERTIFICATION: &str = "pension_certification";

/// How many applications' rows are rewritten per transaction after a migration.
const REPROJECT_BATCH: usize = 256;

/// A resident's certification year as the screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct CertificationView {
    pub resident: String,
    pub resident_name: String,
    pub committee: String,
    pub state: CertificationState,
    /// It needs a visit: due or overdue.
    pub to_visit: bool,
    /// The window the state is about, `YYYY-MM-DD`: the next (done), the current (due),
    /// the one that passed (overdue).
    pub due_from: String,
    pub due_by: String,
    /// The window follows the last certification (`true`) or the birthday month.
    pub from_last: bool,
    /// The last certification known, `YYYY-MM-DD`, and how it is known.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_certified: Option<String>,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certified_by: Option<CertifiedBy>,
    /// The government's reference of a filed one (may be empty).
    pub reference: String,
    /// The newest application under way (neither filed nor rejected), if any.
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<DocId>,
    #[ts(optional)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application_status: Option<Status>,
}

/// What the rows of one resident add up to.
#[derive(Default)]
struct Gathered {
    name: String,
    birth: Option<Ymd>,
    committee: Option<String>,
    followed: bool,
    last: Option<LastCertification>,
    /// Created at, id and status of the newest application under way.
    open: Option<(i64, DocId, Status)>,
}

fn parse_status(text: &str) -> Option<Status> {
    Some(match text {
        "draft" => Status::Draft,
        "submitted" => Status::Submitted,
        "returned" => Status::Returned,
        "approved" => Status::Approved,
        "rejected" => Status::Rejected,
        "filed" => Status::Filed,
        _ => return None,
    })
}

type Row = (
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    i64,
);

impl Device {
    /// Rewrites every application's and resident's row from its document when a
    /// migration asked for it (new columns to fill), then forgets the request. A record
    /// that does not load is left as it is (it is quarantined and shown as such); the
    /// rest are rewritten.
    pub(crate) fn reproject_if_asked(&mut self) -> Result<(), DeviceError> {
        self.reproject_table_if_asked(REPROJECT_APPLICATIONS, "applications")?;
        self.reproject_table_if_asked(REPROJECT_RESIDENTS, "residents")
    }

    fn reproject_table_if_asked(&mut self, asked: &str, table: &str) -> Result<(), DeviceError> {
        if self.store.meta(asked)?.is_none() {
            return Ok(());
        }
        let ids: Vec<String> = {
            let mut stmt = self
                .store
                .conn()
                .prepare(&format!("SELECT doc_id FROM {table}"))?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let now = self.now();
        // In batches: documents loaded, then their rows written in one transaction.
        for batch in ids.chunks(REPROJECT_BATCH) {
            let mut loaded = Vec::with_capacity(batch.len());
            for id in batch.iter().filter_map(|id| DocId::parse(id)) {
                match docs::load(&self.store, &self.cache, &id, &self.actor) {
                    Ok(l) => loaded.push((id, l.doc)),
                    Err(DeviceError::Quarantined(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            let tx = self.store.transaction()?;
            for (id, doc) in &mut loaded {
                projection::project(&self.catalog, &tx, id, doc, now)?;
            }
            tx.commit()?;
        }
        let tx = self.store.transaction()?;
        tx.execute("DELETE FROM meta WHERE key = ?1", [asked])?;
        tx.commit()?;
        Ok(())
    }

    /// The certification year, on `today`, of every resident this device follows,
    /// overdue first, then by the end of the window and name.
    pub fn certifications(&self, today: Ymd) -> Result<Vec<CertificationView>, DeviceError> {
        self.certifications_where(today, None)
    }

    /// The certification years on `today` of every resident followed, or of `only`.
    fn certifications_where(
        &self,
        today: Ymd,
        only: Option<&DocId>,
    ) -> Result<Vec<CertificationView>, DeviceError> {
        let rows: Vec<Row> = {
            let mut stmt = self.store.conn().prepare_cached(
                "SELECT a.resident, r.name, r.birth_date, d.committee, a.doc_id, a.status,
                        a.filed_on, a.reference, a.last_certified_on, a.created_at
                 FROM applications a JOIN docs d ON d.doc_id = a.doc_id
                 LEFT JOIN residents r ON r.doc_id = a.resident
                 WHERE a.service = ?1 AND d.quarantined IS NULL
                   AND (?2 IS NULL OR a.resident = ?2)",
            )?;
            let only = only.map(DocId::as_str);
            let rows = stmt.query_map(params![PENSION_CERTIFICATION, only], |r| r.try_into())?;
            rows.collect::<Result<_, _>>()?
        };
        let mut residents: BTreeMap<String, Gathered> = BTreeMap::new();
        for (
            resident,
            name,
            birth,
            committee,
            doc_id,
            status,
            filed_on,
            reference,
            recorded,
            created_at,
        ) in rows
        {
            let g = residents.entry(resident).or_default();
            g.name = name.unwrap_or_default();
            g.birth = birth.as_deref().and_then(parse_ymd);
            if g.committee.is_none() {
                g.committee = committee;
            }
            let Some(status) = parse_status(&status) else {
                continue;
            };
            if status != Status::Rejected {
                g.followed = true;
            }
            if let Some(on) = filed_on.as_deref().and_then(parse_ymd) {
                g.last = Some(LastCertification::later(
                    g.last.take(),
                    LastCertification {
                        on,
                        by: CertifiedBy::Filed,
                        reference,
                    },
                ));
            }
            if let Some(on) = recorded.as_deref().and_then(parse_ymd) {
                g.last = Some(LastCertification::later(
                    g.last.take(),
                    LastCertification {
                        on,
                        by: CertifiedBy::Recorded,
                        reference: String::new(),
                    },
                ));
            }
            let under_way = !matches!(status, Status::Filed | Status::Rejected);
            if let (true, Some(id)) = (under_way, DocId::parse(&doc_id))
                && g.open
                    .as_ref()
                    .is_none_or(|(at, other, _)| (created_at, &id) > (*at, other))
            {
                g.open = Some((created_at, id, status));
            }
        }
        let home = self.home_committee();
        let mut out: Vec<CertificationView> = residents
            .into_iter()
            .filter(|(_, g)| g.followed)
            .filter_map(|(resident, g)| {
                // Without a birthday (a resident not yet received here) and without a
                // certification there is nothing to judge by: not listed, as in
                // every other list a record not yet received is not.
                let year = certification_year(g.birth, g.last.as_ref(), today)?;
                let (application, application_status) = g
                    .open
                    .map_or((None, None), |(_, id, s)| (Some(id), Some(s)));
                Some(CertificationView {
                    resident,
                    resident_name: g.name,
                    committee: committee_or(g.committee, home.as_deref()),
                    state: year.state,
                    to_visit: year.needs_visit(),
                    due_from: format_ymd(year.from),
                    due_by: format_ymd(year.by),
                    from_last: year.from_last,
                    last_certified: g.last.as_ref().map(|l| format_ymd(l.on)),
                    certified_by: g.last.as_ref().map(|l| l.by),
                    reference: g.last.map(|l| l.reference).unwrap_or_default(),
                    application,
                    application_status,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            (a.state, &a.due_by, &a.resident_name, &a.resident).cmp(&(
                b.state,
                &b.due_by,
                &b.resident_name,
                &b.resident,
            ))
        });
        Ok(out)
    }

    /// The residents whose certification needs a visit on `today`: due or overdue.
    pub fn certifications_to_visit(
        &self,
        today: Ymd,
    ) -> Result<Vec<CertificationView>, DeviceError> {
        let mut all = self.certifications(today)?;
        all.retain(|c| c.to_visit);
        Ok(all)
    }

    /// One resident's certification year on `today`, if the device follows them.
    pub fn certification_of(
        &self,
        resident: &DocId,
        today: Ymd,
    ) -> Result<Option<CertificationView>, DeviceError> {
        Ok(self.certifications_where(today, Some(resident))?.pop())
    }
}
