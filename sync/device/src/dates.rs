//! Today's date by the system's clock, for callers without a device at hand; a device
//! reads its own clock (`Device::today`). Every other calendar rule is
//! `doorstep_core::date`.

use doorstep_core::date::Ymd;

use crate::clock::{Clock, SystemClock};

/// Today's date in UTC+8 (China Standard Time), where Doorstep is used.
pub fn today_china() -> Ymd {
    SystemClock.today()
}
