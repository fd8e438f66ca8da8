//! Keystone's `[security_compliance]` rules over passwords: the regular
//! expression new passwords must match, the password history, the minimum
//! password age and the lockout after failed logins. All off unless
//! configured (`IdentityConfig::security_compliance`).

use ferro_api::time::now_micros;

use super::hashing;
use crate::error::{Error, Result};
use crate::store::passwords;
use crate::store::users::User;
use crate::Identity;

const MICROS_PER_DAY: i64 = 86_400 * 1_000_000;

/// A user option that exempts the user from the lockout.
const IGNORE_LOCKOUT: &str = "ignore_lockout_failure_attempts";

/// A new password must match `password_regex` (400 otherwise).
pub fn check_new_password(id: &Identity, password: &str) -> Result<()> {
    let rules = &id.config().security_compliance;
    let Some(re) = &rules.password_regex else {
        return Ok(());
    };
    if re.is_match(password) {
        return Ok(());
    }
    let detail = rules
        .password_regex_description
        .clone()
        .or_else(|| rules.password_regex_source.clone())
        .unwrap_or_default();
    Err(Error::bad_request(format!(
        "The password does not match the requirements: {detail}."
    )))
}

/// Before a user changes their own password: the minimum age of the current
/// one (if the user set it themselves) and the history (400 otherwise).
pub async fn check_self_service_change(id: &Identity, user: &User, password: &str) -> Result<()> {
    let rules = &id.config().security_compliance;
    let keep = i64::from(rules.unique_last_password_count.max(1));
    let recent = passwords::recent(id.db(), &user.id, keep).await?;
    if rules.minimum_password_age > 0 {
        if let Some(current) = recent.first().filter(|p| p.self_service) {
            let min_age = i64::from(rules.minimum_password_age) * MICROS_PER_DAY;
            let until = current.created_at + min_age;
            let now = now_micros();
            if now < until {
                return Err(Error::bad_request(format!(
                    "You cannot change your password at this time due to the minimum password \
                     age. Once you change your password, it must be used for {} day(s) before \
                     it can be changed. Please try again in {} day(s) or contact your \
                     administrator to reset your password.",
                    rules.minimum_password_age,
                    (until - now) / MICROS_PER_DAY
                )));
            }
        }
    }
    let count = rules.unique_last_password_count;
    if count > 0 {
        // Passwords set before the history was kept: the current one.
        let mut hashes: Vec<String> = recent.into_iter().map(|p| p.password_hash).collect();
        if hashes.is_empty() {
            hashes.extend(user.password_hash.clone());
        }
        for h in hashes {
            if hashing::verify(password.to_owned(), h).await {
                return Err(Error::bad_request(format!(
                    "The new password cannot be identical to a previous password. The total \
                     number which includes the new password must be unique is {count}."
                )));
            }
        }
    }
    Ok(())
}

/// Remember a password just given to a user (by an admin or themselves).
pub async fn record_password(
    id: &Identity,
    user_id: &str,
    hash: &str,
    self_service: bool,
) -> Result<()> {
    passwords::record(id.db(), user_id, hash, self_service, now_micros()).await?;
    Ok(())
}

fn lockout_applies(id: &Identity, user: &User) -> bool {
    id.config().security_compliance.lockout_failure_attempts > 0
        && user.options.get(IGNORE_LOCKOUT).and_then(|v| v.as_bool()) != Some(true)
}

/// Before a password is checked: a locked account is refused (401), right
/// password or not; a lock that has run its time is lifted.
pub async fn check_not_locked(id: &Identity, user: &User) -> Result<()> {
    if !lockout_applies(id, user) {
        return Ok(());
    }
    let rules = &id.config().security_compliance;
    let Some((count, last)) = passwords::failures(id.db(), &user.id).await? else {
        return Ok(());
    };
    if count < i64::from(rules.lockout_failure_attempts) {
        return Ok(());
    }
    let duration = i64::try_from(rules.lockout_duration)
        .unwrap_or(i64::MAX / 2_000_000)
        .saturating_mul(1_000_000);
    if rules.lockout_duration == 0 || last.saturating_add(duration) > now_micros() {
        return Err(Error::unauthorized(format!(
            "The account is locked for user: {}.",
            user.id
        )));
    }
    passwords::reset_failures(id.db(), &user.id).await?;
    Ok(())
}

/// After a password was checked: count a failure, or clear the count.
pub async fn after_password_check(id: &Identity, user: &User, good: bool) -> Result<()> {
    if !lockout_applies(id, user) {
        return Ok(());
    }
    if good {
        passwords::reset_failures(id.db(), &user.id).await?;
    } else {
        passwords::record_failure(id.db(), &user.id, now_micros()).await?;
    }
    Ok(())
}
