//! The commands of visits: a volunteer's day, a resident's visit plan, assigning a
//! visit (a supervisor's) and recording what came of one. Each a few lines over
//! `doorstep_device::visits`.

use doorstep_device::records::{Assignment, DocId, OutcomeInput};
use doorstep_device::visits::{PlanView, VisitOverview, VisitRow, Visitor};
use tauri::AppHandle;

use crate::UiError;
use crate::commands::{doc_id, unlocked};

/// The visits assigned to this device's user, by due date then address.
#[tauri::command]
pub async fn my_visits(app: AppHandle, offset: u32, limit: u32) -> Result<Vec<VisitRow>, UiError> {
    unlocked(&app, move |d| {
        d.my_visits(offset as usize, limit.min(200) as usize)
    })
    .await
}

/// A resident's visit plan, if one was made.
#[tauri::command]
pub async fn visit_plan(app: AppHandle, resident: String) -> Result<Option<PlanView>, UiError> {
    unlocked(&app, move |d| d.visit_plan(&doc_id(&resident)?)).await
}

/// Who visits may be assigned to.
#[tauri::command]
pub async fn visitors(app: AppHandle) -> Result<Vec<Visitor>, UiError> {
    unlocked(&app, |d| d.visitors()).await
}

#[tauri::command]
pub async fn assign_visit(
    app: AppHandle,
    resident: String,
    assignment: Assignment,
) -> Result<DocId, UiError> {
    unlocked(&app, move |d| {
        d.assign_visit(&doc_id(&resident)?, &assignment)
    })
    .await
}

#[tauri::command]
pub async fn record_visit_outcome(
    app: AppHandle,
    resident: String,
    input: OutcomeInput,
) -> Result<(), UiError> {
    unlocked(&app, move |d| {
        d.record_visit_outcome(&doc_id(&resident)?, &input)
    })
    .await
}

/// Assigns the visits of several residents alike; how many.
#[tauri::command]
pub async fn assign_visits(
    app: AppHandle,
    residents: Vec<String>,
    assignment: Assignment,
) -> Result<usize, UiError> {
    unlocked(&app, move |d| {
        let ids = residents
            .iter()
            .map(|r| doc_id(r))
            .collect::<Result<Vec<_>, _>>()?;
        d.assign_visits(&ids, &assignment)
    })
    .await
}

/// Visits per person and committee, and residents nobody visited this year.
#[tauri::command]
pub async fn visit_overview(app: AppHandle) -> Result<VisitOverview, UiError> {
    unlocked(&app, |d| d.visit_overview(d.today())).await
}
