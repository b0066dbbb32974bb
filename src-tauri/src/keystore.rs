//! Which OS keyring holds the database key: the Secret Service of the desktop session
//! (GNOME Keyring, KWallet), which survives reboots, when one answers; otherwise the
//! kernel's keyutils, which needs no desktop but forgets its keys at reboot.
//! `DOORSTEP_KEYRING=secret-service|keyutils` forces one (tests force keyutils inside
//! a private session keyring).

use anyhow::{Context, bail};
use keyring_core::Entry;

/// Environment variable forcing the keyring store.
pub const KEYRING_ENV: &str = "DOORSTEP_KEYRING";

/// Sets the process's default keyring store; returns its name.
pub fn choose() -> anyhow::Result<&'static str> {
    match std::env::var(KEYRING_ENV).ok().as_deref() {
        Some("secret-service") => {
            use_secret_service()?;
            Ok("secret-service")
        }
        Some("keyutils") => {
            use_keyutils()?;
            Ok("keyutils")
        }
        Some(other) if !other.is_empty() => {
            bail!("{KEYRING_ENV}={other:?} is not a keyring store: use secret-service or keyutils")
        }
        _ => {
            if use_secret_service().is_ok() {
                return Ok("secret-service");
            }
            use_keyutils()?;
            tracing::warn!(
                "no Secret Service answered: the database key is kept in the kernel keyring, \
                 which does not survive a reboot"
            );
            Ok("keyutils")
        }
    }
}

fn use_secret_service() -> anyhow::Result<()> {
    let store = zbus_secret_service_keyring_store::Store::new()
        .context("connecting to the Secret Service")?;
    keyring_core::set_default_store(store);
    // A store that connects but cannot be read (locked, absent) is no use.
    let probe = Entry::new(doorstep_device::secret::KEYRING_SERVICE, "probe")
        .context("creating a keyring entry")?;
    match probe.get_secret() {
        Ok(_) | Err(keyring_core::Error::NoEntry) => Ok(()),
        Err(e) => Err(e).context("reading from the Secret Service"),
    }
}

fn use_keyutils() -> anyhow::Result<()> {
    let store = linux_keyutils_keyring_store::Store::new().context("opening the kernel keyring")?;
    keyring_core::set_default_store(store);
    Ok(())
}
