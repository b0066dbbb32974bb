//! Visits on the device: a supervisor assigns residents to volunteers (each resident's
//! visit plan, [`doorstep_core::visit`]), and a volunteer's day lists the visits
//! assigned to them — overdue, today, this week, later — ordered by due date then
//! address, with what each resident's file still lacks; a visit is marked done with its
//! outcome and, where another is needed, the next one proposed. All offline: the plans
//! sync like every other record.
//!
//! A plan's row (`visits`) holds the visit due, derived from the plan when it is
//! written, so that the day's list is one indexed query and never loads a document.

use automerge::AutoCommit;
use doorstep_core::DocId;
use doorstep_core::conflict;
use doorstep_core::date::{Ymd, civil_from_days, days_from_civil, format_ymd};
use doorstep_core::protocol::Role;
use doorstep_core::visit::{self, Assignment, OutcomeInput, Plan, Purpose};
use rusqlite::params;
use serde::Serialize;

use crate::device::Device;
use crate::docs::Access;
use crate::error::DeviceError;
use crate::projection::committee_or;
use crate::roster::Table;

/// How a visit stands against today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum VisitWhen {
    Overdue,
    Today,
    /// Within the next six days.
    ThisWeek,
    Later,
}

/// What a resident's file lacks for the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// No phone number to call ahead.
    Phone,
    /// No authorization in force, which an application on their behalf needs.
    Authorization,
}

/// One visit of a volunteer's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct VisitRow {
    pub resident: DocId,
    pub name: String,
    pub address: String,
    /// `YYYY-MM-DD`.
    pub due: String,
    pub when: VisitWhen,
    pub purpose: Purpose,
    /// The service's code, for [`Purpose::Service`].
    pub service: String,
    /// A next visit a volunteer proposed, not one a supervisor set.
    pub proposed: bool,
    /// Two supervisors assigned the resident differently offline: a person decides.
    pub conflicted: bool,
    pub missing: Vec<Missing>,
}

/// A resident's visit plan as the resident's page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct PlanView {
    pub plan: Plan,
    /// The visit due, if any.
    pub open: Option<visit::OpenVisit>,
    pub conflicted: bool,
}

/// Someone a visit may be assigned to: an enrolled device's person of the committee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Visitor {
    /// Their member id (what an assignment names).
    pub id: String,
    pub name: String,
    /// `None` for this device's own user when it is not enrolled.
    pub role: Option<Role>,
}

/// The visits of one person of one committee, as the supervisor's overview counts them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct VisitCount {
    pub committee: String,
    pub assignee: String,
    pub assignee_name: String,
    /// Visits due from today on.
    pub planned: u64,
    /// Visits due before today and not yet done.
    pub overdue: u64,
    /// Residents assigned to them whose last visit was this year.
    pub done: u64,
}

/// Visits planned, overdue and done per person and committee, and the residents of each
/// committee nobody has visited this year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct VisitOverview {
    pub counts: Vec<VisitCount>,
    pub unvisited: Vec<(String, u64)>,
}

impl Device {
    /// Who visits may be assigned to: the people of the key roster this device holds
    /// (revoked ones left out), by name; and this device's own user.
    pub fn visitors(&self) -> Result<Vec<Visitor>, DeviceError> {
        let mut out: Vec<Visitor> = match self.trusted()? {
            Some(trusted) => trusted
                .roster
                .entries
                .iter()
                .filter(|e| !e.revoked)
                .map(|e| Visitor {
                    id: e.device_id.clone(),
                    name: e.name.clone(),
                    role: Some(e.role),
                })
                .collect(),
            None => Vec::new(),
        };
        let me = self.member_id()?;
        if !out.iter().any(|v| v.id == me) {
            out.push(Visitor {
                id: me,
                name: self.volunteer().to_owned(),
                role: self.enrollment()?.map(|e| e.role),
            });
        }
        out.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        out.dedup_by(|a, b| a.id == b.id);
        Ok(out)
    }

    /// The id assignments name this device's user by: the id the server enrolled it
    /// under, or (not enrolled) its actor.
    pub fn member_id(&self) -> Result<String, DeviceError> {
        Ok(self
            .enrollment()?
            .map(|e| e.device_id)
            .unwrap_or_else(|| self.actor_hex()))
    }

    /// Assigns a resident's visit to a volunteer, or reassigns it: a supervisor's to do
    /// (a device not yet enrolled has no role; the server checks when it syncs).
    pub fn assign_visit(
        &mut self,
        resident: &DocId,
        assignment: &Assignment,
    ) -> Result<DocId, DeviceError> {
        if self
            .enrollment()?
            .is_some_and(|e| e.role != Role::Supervisor)
        {
            return Err(DeviceError::NotSupervisor);
        }
        self.load_resident(resident)?;
        assignment.validate()?;
        let id = visit::plan_id(resident);
        let now = self.now();
        let by = self.volunteer().to_owned();
        if self.record_exists(&id)? {
            let mut loaded = self.load_kind_for(&id, visit::KIND, Access::Edit)?;
            visit::assign(&mut loaded.doc, assignment, &by, now)?;
            self.note("assign_visit").commit(&mut loaded.doc, now);
            self.save_record(&id, loaded, now)?;
        } else {
            let mut doc = AutoCommit::new().with_actor(self.actor.clone());
            visit::write_new(&mut doc, resident.as_str())?;
            visit::assign(&mut doc, assignment, &by, now)?;
            self.note("assign_visit").commit(&mut doc, now);
            self.insert_record(&id, visit::KIND, &mut doc, now)?;
        }
        Ok(id)
    }

    /// Assigns the visits of several residents (a filtered list, those whose
    /// certification falls due) alike; how many were assigned. Every resident is checked
    /// before any is assigned.
    pub fn assign_visits(
        &mut self,
        residents: &[DocId],
        assignment: &Assignment,
    ) -> Result<usize, DeviceError> {
        assignment.validate()?;
        for resident in residents {
            self.load_resident(resident)?;
        }
        for resident in residents {
            self.assign_visit(resident, assignment)?;
        }
        Ok(residents.len())
    }

    /// The supervisor's overview of visits on `today`: per person and committee, and
    /// the residents with no visit recorded since the year began.
    pub fn visit_overview(&self, today: Ymd) -> Result<VisitOverview, DeviceError> {
        let conn = self.store.conn();
        let home = self.home_committee();
        let today_text = format_ymd(today);
        let year_start = format_ymd((today.0, 1, 1));
        let mut stmt = conn.prepare_cached(
            "SELECT d.committee, v.assignee, max(v.assignee_name),
                    sum(v.due <> '' AND v.due >= ?1), sum(v.due <> '' AND v.due < ?1),
                    sum(v.last_visited >= ?2)
               FROM visits v JOIN docs d ON d.doc_id = v.doc_id
              WHERE d.quarantined IS NULL AND v.assignee <> ''
              GROUP BY d.committee, v.assignee
              ORDER BY 3, 2",
        )?;
        let rows = stmt.query_map(params![today_text, year_start], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
            ))
        })?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        // Plans not synced yet have no committee column: they are the home committee's,
        // counted with its synced ones.
        let mut merged: std::collections::BTreeMap<(String, String), VisitCount> =
            Default::default();
        for row in rows {
            let (committee, assignee, assignee_name, planned, overdue, done) = row?;
            let committee = committee_or(committee, home.as_deref());
            let entry = merged
                .entry((committee.clone(), assignee.clone()))
                .or_insert_with(|| VisitCount {
                    committee,
                    assignee,
                    assignee_name,
                    planned: 0,
                    overdue: 0,
                    done: 0,
                });
            entry.planned += count(planned);
            entry.overdue += count(overdue);
            entry.done += count(done);
        }
        let mut counts: Vec<VisitCount> = merged.into_values().collect();
        counts.sort_by(|a, b| {
            (&a.committee, &a.assignee_name, &a.assignee).cmp(&(
                &b.committee,
                &b.assignee_name,
                &b.assignee,
            ))
        });
        let mut stmt = conn.prepare_cached(
            "SELECT d.committee,
                    sum(NOT EXISTS (SELECT 1 FROM visits v
                                     WHERE v.resident = r.doc_id AND v.last_visited >= ?1))
               FROM residents r JOIN docs d ON d.doc_id = r.doc_id
              WHERE d.quarantined IS NULL
              GROUP BY d.committee",
        )?;
        let rows = stmt.query_map([&year_start], |r| {
            Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?))
        })?;
        let mut unvisited: std::collections::BTreeMap<String, u64> = Default::default();
        for row in rows {
            let (committee, n) = row?;
            *unvisited
                .entry(committee_or(committee, home.as_deref()))
                .or_default() += count(n);
        }
        Ok(VisitOverview {
            counts,
            unvisited: unvisited.into_iter().collect(),
        })
    }

    /// Every visit plan as a table for the supervisor (of committee `committee`, or all):
    /// the resident, their address, who visits, when and what for, and what came of the
    /// last visit. `labels` are the headers and the words for purposes and outcomes in the
    /// supervisor's language (keys: `committee`, `resident`, `address`, `assignee`, `due`,
    /// `purpose`, `last_outcome`, `last_visited`, `visits`, `purpose.<code>`,
    /// `outcome.<code>`); `lang` chooses the catalog's service names (`zh-CN` or `en`).
    /// No ID number or phone is written.
    pub fn visits_table(
        &self,
        committee: Option<&str>,
        labels: &std::collections::BTreeMap<String, String>,
        lang: &str,
    ) -> Result<Table, DeviceError> {
        let label = |key: &str| labels.get(key).cloned().unwrap_or_else(|| key.to_owned());
        let home = self.home_committee();
        let names: std::collections::HashMap<String, String> = self
            .enrollment()?
            .map(|e| e.committees.into_iter().map(|c| (c.id, c.name)).collect())
            .unwrap_or_default();
        let mut stmt = self.store.conn().prepare(
            "SELECT d.committee, r.name, r.address, v.assignee_name, v.due, v.purpose,
                    v.service, v.last_outcome, v.last_visited
               FROM visits v JOIN docs d ON d.doc_id = v.doc_id
               JOIN residents r ON r.doc_id = v.resident
              WHERE d.quarantined IS NULL
              ORDER BY v.due = '', v.due, r.address, r.doc_id",
        )?;
        type Row = (
            Option<String>,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
        );
        let found: Vec<Row> = stmt
            .query_map([], |r| r.try_into())?
            .collect::<Result<_, _>>()?;
        let headers = [
            "committee",
            "resident",
            "address",
            "assignee",
            "due",
            "purpose",
            "last_outcome",
            "last_visited",
        ]
        .iter()
        .map(|k| label(k))
        .collect();
        let mut rows = Vec::with_capacity(found.len());
        for (c, name, address, assignee, due, purpose, service, outcome, visited) in found {
            let c = committee_or(c, home.as_deref());
            if committee.is_some_and(|want| want != c) {
                continue;
            }
            let purpose = match (purpose.as_str(), self.catalog.service(&service)) {
                ("", _) => String::new(),
                ("service", Some(def)) => def.name.get(lang).to_owned(),
                (code, _) => label(&format!("purpose.{code}")),
            };
            let outcome = if outcome.is_empty() {
                String::new()
            } else {
                label(&format!("outcome.{outcome}"))
            };
            rows.push(vec![
                names.get(&c).cloned().unwrap_or(c),
                name,
                address,
                assignee,
                due,
                purpose,
                outcome,
                visited,
            ]);
        }
        Ok(Table { headers, rows })
    }

    /// Records what came of the resident's visit due now, and the next one proposed.
    /// Refused when no visit is due (`NotFound`).
    pub fn record_visit_outcome(
        &mut self,
        resident: &DocId,
        input: &OutcomeInput,
    ) -> Result<(), DeviceError> {
        let id = visit::plan_id(resident);
        let mut loaded = self.load_kind_for(&id, visit::KIND, Access::Edit)?;
        let plan = visit::read(&loaded.doc)?;
        let open = visit::open_visit(&plan).ok_or_else(|| DeviceError::NotFound(id.to_string()))?;
        input.validate(&open.due)?;
        let now = self.now();
        let member = self.member_id()?;
        let name = self.volunteer().to_owned();
        let key = uuid::Uuid::now_v7().to_string();
        visit::record_outcome(
            &mut loaded.doc,
            &key,
            &open.due,
            input,
            (&member, &name),
            now,
        )?;
        self.note("record_visit_outcome")
            .commit(&mut loaded.doc, now);
        self.save_record(&id, loaded, now)
    }

    /// A resident's visit plan, if one was made.
    pub fn visit_plan(&self, resident: &DocId) -> Result<Option<PlanView>, DeviceError> {
        let id = visit::plan_id(resident);
        if !self.record_exists(&id)? {
            return Ok(None);
        }
        let loaded = self.load_kind(&id, visit::KIND)?;
        let plan = visit::read(&loaded.doc)?;
        Ok(Some(PlanView {
            open: visit::open_visit(&plan),
            conflicted: conflict::has_conflicts(&loaded.doc, visit::FIELDS)?,
            plan,
        }))
    }

    /// The visits due to `member`, by due date then address: `limit` from `offset`.
    pub fn visits_of(
        &self,
        member: &str,
        today: Ymd,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<VisitRow>, DeviceError> {
        let today_text = format_ymd(today);
        let week_end = format_ymd(civil_from_days(days_from_civil(today) + 6));
        let mut stmt = self.store.conn().prepare_cached(
            "SELECT v.resident, r.name, r.address, v.due, v.purpose, v.service, v.proposed,
                    v.conflicted, r.phone = '',
                    NOT EXISTS (SELECT 1 FROM authorizations a
                                 WHERE a.resident = v.resident AND a.revoked = 0
                                   AND a.valid_to >= ?2)
               FROM visits v JOIN residents r ON r.doc_id = v.resident
               JOIN docs d ON d.doc_id = v.doc_id
              WHERE v.assignee = ?1 AND v.due <> '' AND d.quarantined IS NULL
              ORDER BY v.due, r.address, r.doc_id
              LIMIT ?3 OFFSET ?4",
        )?;
        let rows = stmt.query_map(
            params![member, today_text, limit as i64, offset as i64],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, bool>(6)?,
                    r.get::<_, bool>(7)?,
                    r.get::<_, bool>(8)?,
                    r.get::<_, bool>(9)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (
                resident,
                name,
                address,
                due,
                purpose,
                service,
                proposed,
                conflicted,
                no_phone,
                no_auth,
            ) = row?;
            let (Some(resident), Some(purpose)) =
                (DocId::parse(&resident), Purpose::parse(&purpose))
            else {
                continue;
            };
            let when = if due < today_text {
                VisitWhen::Overdue
            } else if due == today_text {
                VisitWhen::Today
            } else if due <= week_end {
                VisitWhen::ThisWeek
            } else {
                VisitWhen::Later
            };
            let mut missing = Vec::new();
            if no_phone {
                missing.push(Missing::Phone);
            }
            if no_auth && purpose != Purpose::Checkup {
                missing.push(Missing::Authorization);
            }
            out.push(VisitRow {
                resident,
                name,
                address,
                due,
                when,
                purpose,
                service,
                proposed,
                conflicted,
                missing,
            });
        }
        Ok(out)
    }

    /// This device's user's visits (see [`Device::visits_of`]).
    pub fn my_visits(&self, offset: usize, limit: usize) -> Result<Vec<VisitRow>, DeviceError> {
        self.visits_of(&self.member_id()?, self.today(), offset, limit)
    }
}
