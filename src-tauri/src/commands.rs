//! The `#[tauri::command]`s: each a few lines over doorstep-device.

use std::sync::MutexGuard;

use doorstep_core::resident::ResidentInput;
use doorstep_device::{Device, ResidentSummary};
use tauri::State;

use crate::{AppState, UiError};

fn device<'a>(state: &'a State<'_, AppState>) -> Result<MutexGuard<'a, Device>, UiError> {
    state
        .device
        .lock()
        .map_err(|_| UiError::internal("the device store is unavailable after an earlier failure"))
}

#[tauri::command]
pub fn register_resident(
    state: State<'_, AppState>,
    input: ResidentInput,
) -> Result<ResidentSummary, UiError> {
    Ok(device(&state)?.register_resident(&input)?)
}

#[tauri::command]
pub fn list_residents(state: State<'_, AppState>) -> Result<Vec<ResidentSummary>, UiError> {
    Ok(device(&state)?.list_residents()?)
}
