//! Today's date, read from the clock; every other calendar rule is
//! `doorstep_core::date`.

use doorstep_core::date::{Ymd, china_date};

use crate::device::now_ms;

/// Today's date in UTC+8 (China Standard Time), where Doorstep is used.
pub fn today_china() -> Ymd {
    china_date(now_ms())
}
