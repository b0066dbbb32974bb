//! The server's own Ed25519 key and the key rosters it signs with it (see
//! `doorstep_core::key_roster`): which devices write for a device's committees, with
//! their keys, roles and revocations. The roster's version changes with every
//! enrollment and revocation, so a sync carries a new roster only when it changed.
//!
//! The key is made on the database's first start and kept in it, so that every server
//! process on one database (PostgreSQL) signs with the same key.

use doorstep_core::attest::change_message;
use doorstep_core::key_roster::{KeyEntry, KeyRoster, SignedKeyRoster};
use doorstep_core::protocol::Role;
use ed25519_dalek::{Signer, SigningKey};

use crate::db::{Tx, Val};
use crate::error::Failure;
use crate::params;

/// Gives a database its signing key and roster version, once.
pub(super) fn ensure(tx: &mut dyn Tx) -> Result<(), Failure> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(Failure::storage)?;
    let seed = hex::encode(seed);
    tx.execute(
        "INSERT INTO server_meta (key, value) VALUES ('signing_key', ?1) ON CONFLICT DO NOTHING",
        params![&seed],
    )?;
    tx.execute(
        "INSERT INTO server_meta (key, value) VALUES ('key_roster', ?1) ON CONFLICT DO NOTHING",
        params![uuid::Uuid::new_v4().to_string()],
    )?;
    // The version in force when versions began to be kept (this start, at the latest).
    tx.execute(
        "INSERT INTO key_roster_versions (version, since)
         SELECT value, ?1 FROM server_meta WHERE key = 'key_roster'
         ON CONFLICT DO NOTHING",
        params![crate::now_ms()],
    )?;
    Ok(())
}

/// The server's signing key.
pub(super) fn server_key(tx: &mut dyn Tx) -> Result<SigningKey, Failure> {
    let seed = tx
        .query_one(
            "SELECT value FROM server_meta WHERE key = 'signing_key'",
            &[],
        )?
        .text(0)?;
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(seed.trim(), &mut bytes)
        .map_err(|_| Failure::storage("the server's signing key is unreadable"))?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// Notes that the roster changed (an enrollment or a revocation), in the caller's
/// transaction; returns the new version's place in the order of versions.
pub(super) fn changed(tx: &mut dyn Tx, now: i64) -> Result<i64, Failure> {
    let version = uuid::Uuid::new_v4().to_string();
    tx.execute(
        "UPDATE server_meta SET value = ?1 WHERE key = 'key_roster'",
        params![&version],
    )?;
    tx.execute(
        "INSERT INTO key_roster_versions (version, since) VALUES (?1, ?2)",
        params![&version, now],
    )?;
    tx.query_one(
        "SELECT seq FROM key_roster_versions WHERE version = ?1",
        params![&version],
    )?
    .int(0)
}

/// A version this database issued: its place in the order and when.
pub(super) fn version(tx: &mut dyn Tx, version: &str) -> Result<Option<(i64, i64)>, Failure> {
    tx.query_opt(
        "SELECT seq, since FROM key_roster_versions WHERE version = ?1",
        params![version],
    )?
    .map(|row| Ok((row.int(0)?, row.int(1)?)))
    .transpose()
}

/// The devices of `n` committees (`?1`…`?n`), each with its committees: found through
/// `device_committees_by_committee`, so that a roster costs its committees' devices and
/// not every device the server ever enrolled (checked by `plans.rs`).
pub(super) fn roster_rows_sql(n: usize) -> String {
    let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
    format!(
        "SELECT d.device_id, d.actor, d.public_key, d.name, d.label, d.role,
                CASE WHEN d.revoked_at IS NULL THEN 0 ELSE 1 END, dc.committee_id
         FROM devices d JOIN device_committees dc ON dc.device_id = d.device_id
         WHERE dc.committee_id IN ({})
         ORDER BY d.enrolled_at, d.device_id, dc.committee_id",
        marks.join(", ")
    )
}

/// The signed roster of `committees`, unless `held` is already its version.
pub(super) fn for_committees(
    tx: &mut dyn Tx,
    committees: &[String],
    held: &str,
    now: i64,
) -> Result<Option<SignedKeyRoster>, Failure> {
    let version = tx
        .query_one(
            "SELECT value FROM server_meta WHERE key = 'key_roster'",
            &[],
        )?
        .text(0)?;
    if version == held {
        return Ok(None);
    }
    let mut entries: Vec<KeyEntry> = Vec::new();
    if !committees.is_empty() {
        let values: Vec<Val> = committees.iter().map(Val::from).collect();
        for row in tx.query(&roster_rows_sql(committees.len()), &values)? {
            let device_id = row.text(0)?;
            let committee = row.text(7)?;
            if let Some(last) = entries.last_mut().filter(|e| e.device_id == device_id) {
                last.committees.push(committee);
                continue;
            }
            let Some(role) = Role::parse(&row.text(5)?) else {
                continue;
            };
            entries.push(KeyEntry {
                device_id,
                actor: row.text(1)?,
                public_key: row.text(2)?,
                name: row.text(3)?,
                label: row.text(4)?,
                role,
                committees: vec![committee],
                revoked: row.int(6)? != 0,
            });
        }
    }
    let roster = KeyRoster {
        version,
        issued_at: now,
        committees: committees.to_vec(),
        entries,
    };
    Ok(Some(SignedKeyRoster::sign(&roster, &server_key(tx)?)))
}

/// Changes stored before changes were signed carry no author's signature: the server
/// vouches for them once with its own key (it took them from enrolled devices), so
/// that devices checking what they receive can tell them from changes nobody signed.
pub(super) fn vouch_unsigned(tx: &mut dyn Tx) -> Result<(), Failure> {
    if tx
        .query_opt("SELECT 1 FROM server_meta WHERE key = 'vouched'", &[])?
        .is_some()
    {
        return Ok(());
    }
    let key = server_key(tx)?;
    let mut after = 0i64;
    loop {
        let rows = tx.query(
            "SELECT seq, doc_id, hash FROM changes WHERE seq > ?1 AND signature = ''
             ORDER BY seq LIMIT 500",
            params![after],
        )?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.int(0)?;
        for row in &rows {
            let Ok(hash) = row.text(2)?.parse::<automerge::ChangeHash>() else {
                continue;
            };
            let signature = key.sign(&change_message(&row.text(1)?, &hash));
            tx.execute(
                "UPDATE changes SET signature = ?2 WHERE seq = ?1",
                params![row.int(0)?, hex::encode(signature.to_bytes())],
            )?;
        }
    }
    tx.execute(
        "INSERT INTO server_meta (key, value) VALUES ('vouched', '1') ON CONFLICT DO NOTHING",
        &[],
    )?;
    Ok(())
}
