//! The volunteer's PIN: at least six digits, kept only as an Argon2id hash (PHC string)
//! in the encrypted store. Wrong attempts are counted in the store too, so closing the
//! app does not reset them: from the fifth wrong PIN on, each further try must wait
//! twice as long as the one before (30 s, 1 min, 2 min … at most an hour). Each member of
//! a shared tablet has their own PIN and their own count (members.rs); the calls
//! without a slot are the active member's.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use doorstep_core::ErrorCode;
use doorstep_core::{Field, FieldErrors};

use crate::device::Device;
use crate::error::DeviceError;
use crate::store;
use rusqlite::Transaction;

pub use crate::error::PinRefusal;

const PIN_HASH_KEY: &str = "pin_hash";
const PIN_FAILURES_KEY: &str = "pin_failures";
const PIN_NEXT_TRY_KEY: &str = "pin_next_try_at";

/// The fewest digits a PIN has.
pub const PIN_MIN_DIGITS: usize = 6;
/// The most digits a PIN has (a PIN is typed, not pasted).
pub const PIN_MAX_DIGITS: usize = 12;
/// Wrong PINs allowed before each further try has to wait.
pub const FREE_ATTEMPTS: u32 = 5;
/// The first wait after [`FREE_ATTEMPTS`] wrong PINs; it doubles with each further one.
pub const FIRST_WAIT_MS: i64 = 30_000;
/// The longest wait.
pub const MAX_WAIT_MS: i64 = 60 * 60 * 1000;

/// The `meta` key of a member's value `base` (a PIN's hash, its count of wrong tries):
/// the plain key for the first person, suffixed with the slot for the others.
pub(crate) fn slot_key(base: &str, slot: &str) -> String {
    if slot.is_empty() {
        base.to_owned()
    } else {
        format!("{base}:{slot}")
    }
}

/// The Argon2id hash (PHC string) of a new PIN, once its form is checked.
pub(crate) fn pin_hash(pin: &str) -> Result<String, DeviceError> {
    check_new_pin(pin).map_err(DeviceError::Pin)?;
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| DeviceError::Keyring(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| DeviceError::Keyring(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map_err(|e| DeviceError::Keyring(e.to_string()))?
        .to_string())
}

/// Keeps the PIN `hash` of the member in `slot`, its count of wrong tries cleared.
pub(crate) fn put_pin(tx: &Transaction<'_>, slot: &str, hash: &str) -> Result<(), DeviceError> {
    store::put_meta(tx, &slot_key(PIN_HASH_KEY, slot), hash.as_bytes())?;
    store::put_meta(tx, &slot_key(PIN_FAILURES_KEY, slot), &0i64.to_be_bytes())?;
    store::put_meta(tx, &slot_key(PIN_NEXT_TRY_KEY, slot), &0i64.to_be_bytes())?;
    Ok(())
}

/// Forgets the PIN of the member in `slot`.
pub(crate) fn forget_pin(tx: &Transaction<'_>, slot: &str) -> Result<(), DeviceError> {
    for key in [PIN_HASH_KEY, PIN_FAILURES_KEY, PIN_NEXT_TRY_KEY] {
        tx.execute("DELETE FROM meta WHERE key = ?1", [slot_key(key, slot)])?;
    }
    Ok(())
}

/// Checks the form of a new PIN: digits only, six to twelve of them.
pub fn check_new_pin(pin: &str) -> Result<(), ErrorCode> {
    if !pin.chars().all(|c| c.is_ascii_digit()) {
        return Err(ErrorCode::PinDigitsOnly);
    }
    if pin.len() < PIN_MIN_DIGITS {
        return Err(ErrorCode::PinTooShort);
    }
    if pin.len() > PIN_MAX_DIGITS {
        return Err(ErrorCode::PinTooLong);
    }
    Ok(())
}

/// The wait imposed after `failures` wrong PINs in a row.
pub fn wait_after(failures: u32) -> i64 {
    if failures < FREE_ATTEMPTS {
        return 0;
    }
    let doublings = (failures - FREE_ATTEMPTS).min(20);
    FIRST_WAIT_MS
        .saturating_mul(1 << doublings)
        .min(MAX_WAIT_MS)
}

fn meta_i64(device: &Device, key: &str, slot: &str) -> Result<i64, DeviceError> {
    Ok(device
        .store
        .meta(&slot_key(key, slot))?
        .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
        .map_or(0, i64::from_be_bytes))
}

impl Device {
    /// Whether the active member has set a PIN on this device.
    pub fn has_pin(&self) -> Result<bool, DeviceError> {
        self.has_pin_in(&self.active)
    }

    /// Whether the member in `slot` has a PIN.
    pub(crate) fn has_pin_in(&self, slot: &str) -> Result<bool, DeviceError> {
        Ok(self.store.meta(&slot_key(PIN_HASH_KEY, slot))?.is_some())
    }

    /// Sets (or replaces) the active member's PIN. The caller makes sure whoever does
    /// this is allowed to: on first run, or after the current PIN was given.
    pub fn set_pin(&mut self, pin: &str) -> Result<(), DeviceError> {
        let slot = self.active.clone();
        self.set_pin_in(&slot, pin)
    }

    /// Sets the PIN of the member in `slot`.
    pub(crate) fn set_pin_in(&mut self, slot: &str, pin: &str) -> Result<(), DeviceError> {
        let hash = pin_hash(pin)?;
        let tx = self.store.transaction()?;
        put_pin(&tx, slot, &hash)?;
        tx.commit()?;
        Ok(())
    }

    /// Sets the PIN from the start screen: a device not enrolled yet (first run without
    /// signal) also takes the volunteer's name here, and cannot go on without one.
    pub fn set_pin_as(&mut self, pin: &str, volunteer: &str) -> Result<(), DeviceError> {
        if self.enrollment()?.is_none() && volunteer.trim().is_empty() {
            let mut errors = FieldErrors::default();
            errors.push(Field::Name, ErrorCode::NameEmpty);
            return Err(DeviceError::Invalid(errors));
        }
        self.set_pin(pin)?;
        // The name is the first person's (who sets the first PIN); another member's
        // came with their code.
        if self.active.is_empty() && !volunteer.trim().is_empty() {
            self.set_volunteer(volunteer)?;
        }
        Ok(())
    }

    /// Checks a PIN at time `now_ms`. A wrong PIN, or any PIN while a wait is running,
    /// is refused with how long to wait; a right one clears the count.
    /// Whether personal numbers may be shown whole for one view: only with the right
    /// PIN (`None`: masked). A wrong PIN counts towards the waits as at unlocking. Every
    /// reveal is logged, without what was shown.
    pub fn reveal_with(&mut self, pin: Option<&str>, what: &str) -> Result<bool, DeviceError> {
        match pin {
            Some(pin) => {
                self.check_pin(pin, self.now())?;
                tracing::info!(what, "personal numbers revealed on screen with the PIN");
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Checks the active member's PIN typed to unlock or reveal. Nothing typed is not a
    /// try: it is refused as `pin_empty` and does not count towards the waits.
    pub fn check_pin(&mut self, pin: &str, now_ms: i64) -> Result<(), DeviceError> {
        let slot = self.active.clone();
        self.check_pin_in(&slot, pin, now_ms)
    }

    /// Checks the PIN of the member in `slot`, with their own count of wrong tries.
    pub(crate) fn check_pin_in(
        &mut self,
        slot: &str,
        pin: &str,
        now_ms: i64,
    ) -> Result<(), DeviceError> {
        if pin.trim().is_empty() {
            return Err(DeviceError::Pin(ErrorCode::PinEmpty));
        }
        let Some(stored) = self.store.meta(&slot_key(PIN_HASH_KEY, slot))? else {
            return Err(DeviceError::Pin(ErrorCode::PinNotSet));
        };
        let failures = u32::try_from(meta_i64(self, PIN_FAILURES_KEY, slot)?).unwrap_or(u32::MAX);
        // A clock set back (a tablet's clock put right) makes no one wait longer than
        // their wrong tries earned: the wait starts again from now. Without it, a right
        // PIN followed by the clock going back a day locked the person out for that day
        // (the convergence campaign found it).
        let earned = wait_after(failures);
        let mut next_try = meta_i64(self, PIN_NEXT_TRY_KEY, slot)?;
        if next_try - now_ms > earned {
            next_try = now_ms + earned;
            let tx = self.store.transaction()?;
            store::put_meta(
                &tx,
                &slot_key(PIN_NEXT_TRY_KEY, slot),
                &next_try.to_be_bytes(),
            )?;
            tx.commit()?;
        }
        if now_ms < next_try {
            return Err(DeviceError::PinRefused(PinRefusal {
                code: ErrorCode::PinWait,
                failures,
                wait_ms: next_try - now_ms,
            }));
        }
        let stored = String::from_utf8_lossy(&stored).into_owned();
        let parsed =
            PasswordHash::new(&stored).map_err(|_| DeviceError::Pin(ErrorCode::PinNotSet))?;
        let right = Argon2::default()
            .verify_password(pin.as_bytes(), &parsed)
            .is_ok();
        let (failures, wait) = if right {
            (0, 0)
        } else {
            let failures = failures.saturating_add(1);
            (failures, wait_after(failures))
        };
        let tx = self.store.transaction()?;
        store::put_meta(
            &tx,
            &slot_key(PIN_FAILURES_KEY, slot),
            &i64::from(failures).to_be_bytes(),
        )?;
        store::put_meta(
            &tx,
            &slot_key(PIN_NEXT_TRY_KEY, slot),
            &(now_ms + wait).to_be_bytes(),
        )?;
        tx.commit()?;
        if right {
            Ok(())
        } else {
            Err(DeviceError::PinRefused(PinRefusal {
                code: ErrorCode::PinWrong,
                failures,
                wait_ms: wait,
            }))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn an_empty_pin_is_not_a_try() {
        let (_dir, mut d) = device();
        d.set_pin("246810").expect("set");
        for _ in 0..10 {
            let e = d.check_pin("", 1_000).expect_err("empty");
            assert_eq!(e.code(), ErrorCode::PinEmpty);
        }
        d.check_pin("246810", 1_000)
            .expect("the right PIN at once: no wait");
    }

    #[test]
    fn a_clock_set_back_makes_no_one_wait_longer_than_their_wrong_tries_earned() {
        const DAY: i64 = 86_400_000;
        let (_dir, mut d) = device();
        d.set_pin("246810").expect("set");
        d.check_pin("246810", 10 * DAY).expect("right");
        // The tablet's clock put back a day: the right PIN still opens at once.
        d.check_pin("246810", 9 * DAY)
            .expect("a right PIN earned no wait");
        let mut earned = 0;
        for _ in 0..FREE_ATTEMPTS + 1 {
            if let Err(DeviceError::PinRefused(r)) = d.check_pin("135790", 9 * DAY) {
                earned = r.wait_ms;
            }
        }
        assert!(earned > 0, "wrong tries earn a wait");
        match d.check_pin("246810", 8 * DAY) {
            Err(DeviceError::PinRefused(r)) => {
                assert_eq!(r.code, ErrorCode::PinWait);
                assert_eq!(r.wait_ms, earned, "not a day more");
            }
            other => panic!("the wait still runs: {other:?}"),
        }
        d.check_pin("246810", 8 * DAY + earned)
            .expect("once the earned wait is over");
    }

    /// A device in a temp dir over the crate's one mock keyring (also for members.rs).
    pub(crate) fn device() -> (tempfile::TempDir, Device) {
        // One store for every test here: a test that replaced it while another was
        // between closing and reopening its device would take that device's key away
        // (each data folder has its own entry, so sharing the store is safe).
        static STORE: std::sync::Once = std::sync::Once::new();
        STORE.call_once(|| {
            keyring_core::set_default_store(keyring_core::mock::Store::new().expect("mock store"))
        });
        let dir = tempfile::tempdir().expect("temp dir");
        let device = Device::open(dir.path()).expect("open");
        (dir, device)
    }

    #[test]
    fn new_pins_are_six_to_twelve_digits() {
        assert_eq!(check_new_pin("12345"), Err(ErrorCode::PinTooShort));
        assert_eq!(check_new_pin("12345a"), Err(ErrorCode::PinDigitsOnly));
        assert_eq!(check_new_pin("１２３４５６"), Err(ErrorCode::PinDigitsOnly));
        assert_eq!(check_new_pin("1234567890123"), Err(ErrorCode::PinTooLong));
        assert_eq!(check_new_pin("246810"), Ok(()));
    }

    #[test]
    fn waits_double_after_five_wrong_pins_up_to_an_hour() {
        let waits: Vec<i64> = (1..=9).map(wait_after).collect();
        assert_eq!(
            waits,
            [0, 0, 0, 0, 30_000, 60_000, 120_000, 240_000, 480_000]
        );
        assert_eq!(wait_after(40), MAX_WAIT_MS);
    }

    #[test]
    fn the_pin_is_stored_hashed_and_wrong_ones_wait_even_after_a_reopen() {
        let (dir, mut device) = device();
        assert!(!device.has_pin().expect("has_pin"));
        assert_eq!(
            device.check_pin("246810", 0).map_err(|e| e.code()),
            Err(ErrorCode::PinNotSet)
        );
        assert_eq!(
            device.set_pin("1234").map_err(|e| e.code()),
            Err(ErrorCode::PinTooShort)
        );
        device.set_pin("246810").expect("set");
        let stored = device
            .store
            .meta(PIN_HASH_KEY)
            .expect("meta")
            .expect("hash");
        let stored = String::from_utf8(stored).expect("utf8");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("246810"));

        device.check_pin("246810", 1_000).expect("right PIN");
        for n in 1..=4 {
            let e = device.check_pin("000000", 1_000).expect_err("wrong");
            assert!(
                matches!(&e, DeviceError::PinRefused(r) if r.failures == n && r.wait_ms == 0),
                "{e:?}"
            );
        }
        let e = device.check_pin("000000", 2_000).expect_err("fifth wrong");
        assert!(
            matches!(&e, DeviceError::PinRefused(r) if r.wait_ms == 30_000),
            "{e:?}"
        );
        drop(device);

        // The count survives closing the app: even the right PIN waits.
        let mut device = Device::open(dir.path()).expect("reopen");
        let e = device.check_pin("246810", 12_000).expect_err("waiting");
        assert!(
            matches!(&e, DeviceError::PinRefused(r) if r.code == ErrorCode::PinWait && r.wait_ms == 20_000),
            "{e:?}"
        );
        let e = device.check_pin("000000", 32_000).expect_err("sixth wrong");
        assert!(
            matches!(&e, DeviceError::PinRefused(r) if r.wait_ms == 60_000),
            "{e:?}"
        );
        device
            .check_pin("246810", 92_000)
            .expect("right PIN after the wait");
        // Cleared: a wrong one now counts from one again.
        let e = device.check_pin("000000", 93_000).expect_err("wrong");
        assert!(
            matches!(&e, DeviceError::PinRefused(r) if r.failures == 1),
            "{e:?}"
        );
    }
}
