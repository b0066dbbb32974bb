//! Committees, one-time enrollment codes, devices with their tokens and roles, and
//! revoking a device.

use crate::db::Tx;
use crate::params;
use doorstep_core::keys::{self, PublicKey};
use doorstep_core::protocol::{
    CodeRequest, CodeResponse, Committee, DeviceInfo, EnrollRequest, EnrollResponse, Role,
};

use super::Store;
use super::sha256_hex;
use crate::error::Failure;

/// An authenticated device.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub device_id: String,
    pub role: Role,
    pub name: String,
    pub committees: Vec<String>,
    /// The device's Ed25519 public key, hex (empty for a device enrolled before keys):
    /// every request it makes is signed with it.
    pub public_key: String,
}

pub(super) fn random_token(bytes: usize) -> Result<Vec<u8>, Failure> {
    let mut out = vec![0u8; bytes];
    getrandom::fill(&mut out).map_err(Failure::storage)?;
    Ok(out)
}

/// Crockford base32 without look-alikes (no I, L, O, U).
/// One committee's devices, found through `device_committees_by_committee` (not by
/// reading every device of the server; checked by `plans.rs`).
pub(super) const COMMITTEE_DEVICES: &str =
    "SELECT d.device_id, d.role, d.name, d.label, d.enrolled_at, d.revoked_at, d.last_sync_at,
            d.public_key
     FROM device_committees c JOIN devices d ON d.device_id = c.device_id
     WHERE c.committee_id = ?1
     ORDER BY d.enrolled_at";

const CODE_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A code as people type it: case, spaces and dashes do not matter; O is 0, I and L are 1.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

impl Store {
    /// Adds a committee (or renames an existing one), with the phone residents may call
    /// (empty: none; printed on their receipts).
    pub fn committee_add(
        &mut self,
        id: &str,
        name: &str,
        phone: &str,
        now: i64,
    ) -> Result<(), Failure> {
        if id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Failure::bad_request(
                "invalid_committee_id",
                "a committee id is 1–64 letters, digits, '-' or '_'",
            ));
        }
        if name.trim().is_empty() {
            return Err(Failure::bad_request(
                "invalid_committee_name",
                "a committee needs a name",
            ));
        }
        let phone = match phone.trim() {
            "" => String::new(),
            given => doorstep_core::phone::normalize(given).map_err(|_| {
                Failure::bad_request(
                    "invalid_committee_phone",
                    "a committee's phone is a mobile (11 digits) or a landline with its area code",
                )
            })?,
        };
        let mut tx = self.db.begin(true)?;
        tx.execute(
            "INSERT INTO committees (id, name, phone, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone",
            params![id, name.trim(), phone, now],
        )?;
        tx.commit()
    }

    /// Every committee.
    pub fn committees(&mut self) -> Result<Vec<Committee>, Failure> {
        let mut tx = self.db.begin(false)?;
        tx.query("SELECT id, name, phone FROM committees ORDER BY id", &[])?
            .iter()
            .map(|r| {
                Ok(Committee {
                    id: r.text(0)?,
                    name: r.text(1)?,
                    phone: r.text(2)?,
                })
            })
            .collect()
    }

    /// Makes a one-time enrollment code for `name` with `role` in `committees`, valid
    /// until `expires_at`. Only its hash is kept: the code is shown once.
    pub fn enrollment_create(
        &mut self,
        committees: &[String],
        role: Role,
        name: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<String, Failure> {
        if name.trim().is_empty() {
            return Err(Failure::bad_request(
                "invalid_name",
                "enrollment needs the person's name",
            ));
        }
        match (role, committees.len()) {
            (_, 0) => {
                return Err(Failure::bad_request(
                    "committee_required",
                    "name at least one committee",
                ));
            }
            (Role::Volunteer, n) if n > 1 => {
                return Err(Failure::bad_request(
                    "one_committee_for_volunteer",
                    "a volunteer belongs to exactly one committee",
                ));
            }
            _ => {}
        }
        let mut tx = self.db.begin(true)?;
        for c in committees {
            if tx
                .query_opt("SELECT id FROM committees WHERE id = ?1", params![c])?
                .is_none()
            {
                return Err(Failure::not_found(
                    "committee_unknown",
                    format!("no committee {c}; add it with `committee add` first"),
                ));
            }
        }
        let random = random_token(12)?;
        let mut code = String::new();
        // 12 characters of 5 bits each from 12 random bytes (the top 3 bits of each dropped).
        for (i, b) in random.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                code.push('-');
            }
            code.push(char::from(CODE_ALPHABET[usize::from(b & 31)]));
        }
        let committees_json = serde_json::to_string(committees).map_err(Failure::storage)?;
        tx.execute(
            "INSERT INTO enrollments (code_hash, role, name, committees, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                sha256_hex(normalize_code(&code)),
                role.as_str(),
                name.trim(),
                committees_json,
                now,
                expires_at
            ],
        )?;
        tx.commit()?;
        Ok(code)
    }

    /// Trades an enrollment code for a new device and its token.
    pub fn enroll(&mut self, request: &EnrollRequest, now: i64) -> Result<EnrollResponse, Failure> {
        let (code, label) = (&request.code, &request.device_label);
        // A malformed key or actor is refused before the code is looked at, so the code
        // stays usable for a corrected request.
        let Some(public_key) = PublicKey::from_hex(request.public_key.trim()) else {
            return Err(Failure::bad_request(
                "public_key_invalid",
                "enrollment needs the device's Ed25519 public key as 64 hex digits",
            ));
        };
        let Some(actor) = keys::actor_hex(&request.actor) else {
            return Err(Failure::bad_request(
                "actor_invalid",
                "enrollment needs the device's actor id in hex (1 to 32 bytes)",
            ));
        };
        let proven = hex::decode(request.signature.trim()).is_ok_and(|signature| {
            public_key.verifies(
                &keys::enrollment_message(code, &request.actor, &request.public_key),
                &signature,
            )
        });
        if !proven {
            return Err(Failure::bad_request(
                "signature_invalid",
                "the enrollment must be signed with the key it names",
            ));
        }
        let code_hash = sha256_hex(normalize_code(code));
        let mut tx = self.db.begin(true)?;
        let Some(found) = tx.query_opt(
            "SELECT role, name, committees, expires_at, used_at FROM enrollments
             WHERE code_hash = ?1",
            params![&code_hash],
        )?
        else {
            return Err(Failure::not_found(
                "enrollment_unknown",
                "no such enrollment code; check it or ask for a new one",
            ));
        };
        if found.opt_int(4)?.is_some() {
            return Err(Failure::new(
                axum::http::StatusCode::CONFLICT,
                "enrollment_used",
                "this enrollment code has already been used; ask for a new one",
            ));
        }
        if now >= found.int(3)? {
            return Err(Failure::new(
                axum::http::StatusCode::GONE,
                "enrollment_expired",
                "this enrollment code has expired; ask for a new one",
            ));
        }
        let role = Role::parse(&found.text(0)?)
            .ok_or_else(|| Failure::storage("bad role in enrollments"))?;
        let name = found.text(1)?;
        let committee_ids: Vec<String> =
            serde_json::from_str(&found.text(2)?).map_err(Failure::storage)?;
        // An actor belongs to one key for good: another key cannot claim it, even after
        // its device was revoked (two writers of one actor would break its history).
        // The same tablet enrolling again keeps its key, and so its actor.
        if tx
            .query_opt(
                "SELECT device_id FROM devices WHERE actor = ?1 AND public_key <> ?2",
                params![&actor, public_key.to_hex()],
            )?
            .is_some()
        {
            return Err(Failure::new(
                axum::http::StatusCode::CONFLICT,
                "actor_taken",
                "this actor id belongs to another enrolled device's key",
            ));
        }
        let device_id = uuid::Uuid::now_v7().to_string();
        let token = format!("dst_{}", hex::encode(random_token(32)?));
        let label: String = label.trim().chars().take(80).collect();
        tx.execute(
            "INSERT INTO devices (device_id, token_hash, role, name, label, enrolled_at,
                                  public_key, actor)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                &device_id,
                sha256_hex(&token),
                role.as_str(),
                &name,
                label,
                now,
                public_key.to_hex(),
                &actor
            ],
        )?;
        // The same tablet enrolled again: its earlier enrollments are superseded (their
        // tokens stop working), so that one enrollment speaks for its key and actor.
        tx.execute(
            "UPDATE devices SET revoked_at = ?3
             WHERE actor = ?1 AND device_id <> ?2 AND revoked_at IS NULL",
            params![&actor, &device_id, now],
        )?;
        let mut committees = Vec::new();
        for c in &committee_ids {
            tx.execute(
                "INSERT INTO device_committees (device_id, committee_id) VALUES (?1, ?2)",
                params![&device_id, c],
            )?;
            let row = tx.query_one(
                "SELECT name, phone FROM committees WHERE id = ?1",
                params![c],
            )?;
            committees.push(Committee {
                id: c.clone(),
                name: row.text(0)?,
                phone: row.text(1)?,
            });
        }
        tx.execute(
            "UPDATE enrollments SET used_at = ?2, device_id = ?3 WHERE code_hash = ?1",
            params![&code_hash, now, &device_id],
        )?;
        super::key_roster::changed(tx.as_mut(), now)?;
        let key_roster = super::key_roster::for_committees(tx.as_mut(), &committee_ids, "", now)?;
        tx.commit()?;
        Ok(EnrollResponse {
            device_id,
            token,
            role,
            name,
            committees,
            key_roster,
        })
    }

    /// The device holding `token`: unknown tokens are 401, revoked devices 403.
    pub fn authenticate(&mut self, token: &str) -> Result<DeviceAuth, Failure> {
        let mut tx = self.db.begin(false)?;
        // The device and its committees in one statement (one round trip).
        let rows = tx.query(
            "SELECT d.device_id, d.role, d.name, d.revoked_at, dc.committee_id, d.public_key
             FROM devices d LEFT JOIN device_committees dc ON dc.device_id = d.device_id
             WHERE d.token_hash = ?1 ORDER BY dc.committee_id",
            params![sha256_hex(token)],
        )?;
        let Some(found) = rows.first() else {
            return Err(Failure::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "token_unknown",
                "this device is not enrolled with this server; enroll it again",
            ));
        };
        if found.opt_int(3)?.is_some() {
            return Err(Failure::forbidden(
                "device_revoked",
                "this device has been revoked by an administrator; ask your supervisor",
            ));
        }
        let role =
            Role::parse(&found.text(1)?).ok_or_else(|| Failure::storage("bad role in devices"))?;
        let mut committees = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(c) = row.opt_text(4)? {
                committees.push(c);
            }
        }
        Ok(DeviceAuth {
            device_id: found.text(0)?,
            role,
            name: found.text(2)?,
            committees,
            public_key: found.text(5)?,
        })
    }

    /// Takes `counter` as the device's latest signed request, unless the server took
    /// this counter or a larger one from it before: then `Err` with the last it took (a
    /// replayed request, or two of the device's requests crossing on the way).
    pub fn take_request_counter(
        &mut self,
        device_id: &str,
        counter: u64,
    ) -> Result<Result<(), u64>, Failure> {
        let value = i64::try_from(counter).unwrap_or(i64::MAX);
        let mut tx = self.db.begin(true)?;
        let taken = tx.execute(
            "UPDATE devices SET request_counter = ?2 WHERE device_id = ?1 AND request_counter < ?2",
            params![device_id, value],
        )?;
        if taken == 1 {
            tx.commit()?;
            return Ok(Ok(()));
        }
        let last = tx
            .query_one(
                "SELECT request_counter FROM devices WHERE device_id = ?1",
                params![device_id],
            )?
            .int(0)?;
        Ok(Err(u64::try_from(last).unwrap_or(0)))
    }

    /// Revokes a device: its token is refused from now on. Revoking twice is harmless.
    pub fn device_revoke(&mut self, device_id: &str, now: i64) -> Result<(), Failure> {
        let mut tx = self.db.begin(true)?;
        let revoked_in = super::key_roster::changed(tx.as_mut(), now)?;
        let n = tx.execute(
            "UPDATE devices SET revoked_at = coalesce(revoked_at, ?2),
                                revoked_in = CASE WHEN revoked_at IS NULL THEN ?3
                                                  ELSE revoked_in END
             WHERE device_id = ?1",
            params![device_id, now, revoked_in],
        )?;
        if n == 0 {
            return Err(Failure::not_found(
                "device_unknown",
                format!("no device {device_id}"),
            ));
        }
        tx.commit()
    }

    /// Enrolled devices, optionally of one committee.
    pub fn devices(&mut self, committee: Option<&str>) -> Result<Vec<DeviceInfo>, Failure> {
        let mut tx = self.db.begin(false)?;
        let rows = match committee {
            Some(committee) => tx.query(COMMITTEE_DEVICES, params![committee])?,
            None => tx.query(
                "SELECT device_id, role, name, label, enrolled_at, revoked_at, last_sync_at,
                        public_key
                 FROM devices ORDER BY enrolled_at",
                &[],
            )?,
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let device_id = r.text(0)?;
            out.push(DeviceInfo {
                committees: device_committees(tx.as_mut(), &device_id)?,
                device_id,
                role: Role::parse(&r.text(1)?)
                    .ok_or_else(|| Failure::storage("bad role in devices"))?,
                name: r.text(2)?,
                label: r.text(3)?,
                enrolled_at: r.int(4)?,
                revoked_at: r.opt_int(5)?,
                last_sync_at: r.opt_int(6)?,
                key_fingerprint: PublicKey::from_hex(&r.text(7)?)
                    .map(|k| k.fingerprint())
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// The devices enrolled in any of a supervisor's committees.
    pub fn devices_for(&mut self, device: &DeviceAuth) -> Result<Vec<DeviceInfo>, Failure> {
        require_supervisor(device, "only supervisors list devices")?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for committee in &device.committees {
            for info in self.devices(Some(committee))? {
                if seen.insert(info.device_id.clone()) {
                    out.push(info);
                }
            }
        }
        out.sort_by(|a, b| (a.enrolled_at, &a.device_id).cmp(&(b.enrolled_at, &b.device_id)));
        Ok(out)
    }

    /// A supervisor revokes a lost device: one whose every committee is theirs, and
    /// not the device they are using.
    pub fn revoke_by(
        &mut self,
        device: &DeviceAuth,
        target: &str,
        now: i64,
    ) -> Result<DeviceInfo, Failure> {
        require_supervisor(device, "only supervisors revoke devices")?;
        if target == device.device_id {
            return Err(Failure::bad_request(
                "device_forbidden",
                "a device cannot revoke itself; ask another supervisor",
            ));
        }
        let found = self
            .devices_for(device)?
            .into_iter()
            .find(|d| d.device_id == target)
            .ok_or_else(|| {
                Failure::not_found(
                    "device_unknown",
                    format!("no device {target} in your committees"),
                )
            })?;
        if !found
            .committees
            .iter()
            .all(|c| device.committees.contains(c))
        {
            return Err(Failure::forbidden(
                "device_forbidden",
                "this device also serves committees that are not yours; ask an administrator",
            ));
        }
        self.device_revoke(target, now)?;
        Ok(DeviceInfo {
            revoked_at: Some(found.revoked_at.unwrap_or(now)),
            ..found
        })
    }
}

/// How long a code a supervisor asks for stays usable: it is used on the spot.
pub const SUPERVISOR_CODE_MS: i64 = 15 * 60 * 1000;

impl Store {
    /// A one-time code for a volunteer of one of `device`'s committees, asked for by a
    /// supervisor (to add the volunteer to a shared tablet); usable for
    /// [`SUPERVISOR_CODE_MS`]. Supervisors are made by an administrator only.
    pub fn enrollment_create_by(
        &mut self,
        device: &DeviceAuth,
        request: &CodeRequest,
        now: i64,
    ) -> Result<CodeResponse, Failure> {
        require_supervisor(device, "only supervisors make enrollment codes")?;
        if !device.committees.contains(&request.committee) {
            return Err(Failure::forbidden(
                "committee_forbidden",
                "a supervisor makes codes for their own committees only",
            ));
        }
        let name = request.name.trim();
        if name.chars().count() > 50 {
            return Err(Failure::bad_request(
                "invalid_name",
                "a name is at most 50 characters",
            ));
        }
        let expires_at = now + SUPERVISOR_CODE_MS;
        let code = self.enrollment_create(
            std::slice::from_ref(&request.committee),
            Role::Volunteer,
            name,
            now,
            expires_at,
        )?;
        Ok(CodeResponse { code, expires_at })
    }
}

pub(super) fn require_supervisor(device: &DeviceAuth, message: &str) -> Result<(), Failure> {
    if device.role == Role::Supervisor {
        Ok(())
    } else {
        Err(Failure::forbidden("role_forbidden", message.to_owned()))
    }
}

pub(super) fn device_committees(tx: &mut dyn Tx, device_id: &str) -> Result<Vec<String>, Failure> {
    tx.query(
        "SELECT committee_id FROM device_committees WHERE device_id = ?1 ORDER BY committee_id",
        params![device_id],
    )?
    .iter()
    .map(|r| r.text(0))
    .collect()
}
