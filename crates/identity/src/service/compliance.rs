//! Keystone's `[security_compliance]` rules over passwords: the regular
//! expression new passwords must match, the password history, the minimum
//! password age, the lockout after failed logins, password expiry, the
//! change of an admin-set password upon first use and the disabling of
//! inactive users; and the user options that exempt a user from them. All
//! off unless configured (`IdentityConfig::security_compliance`).

use ferro_api::time::now_micros;

use super::hashing;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::store::passwords;
use crate::store::users::{self, User};
use crate::validate::Object;
use crate::Identity;

const MICROS_PER_DAY: i64 = 86_400 * 1_000_000;

/// A user option that exempts the user from the lockout.
const IGNORE_LOCKOUT: &str = "ignore_lockout_failure_attempts";
/// A user option: the user's passwords never expire.
const IGNORE_EXPIRY: &str = "ignore_password_expiry";
/// A user option: an admin-set password need not be changed first.
const IGNORE_FIRST_USE: &str = "ignore_change_password_upon_first_use";
/// A user option: the user may not change their own password.
const LOCK_PASSWORD: &str = "lock_password";
/// A user option: the user is never disabled for inactivity.
const IGNORE_INACTIVITY: &str = "ignore_user_inactivity";
const MFA_RULES: &str = "multi_factor_auth_rules";

/// The options Keystone knows for users; all but the MFA rules booleans.
const USER_OPTIONS: &[&str] = &[
    IGNORE_FIRST_USE,
    IGNORE_EXPIRY,
    IGNORE_LOCKOUT,
    LOCK_PASSWORD,
    IGNORE_INACTIVITY,
    MFA_RULES,
    "multi_factor_auth_enabled",
];

fn option_set(user: &User, name: &str) -> bool {
    user.options.get(name).and_then(Value::as_bool) == Some(true)
}

fn options_invalid(path: &str, why: String) -> Error {
    Error::bad_request(format!("Invalid input for field '{path}': {why}"))
}

/// Check a request's user `options` as Keystone's schema does: known
/// names only; booleans (or null, which removes the option); the MFA rules
/// a list of distinct non-empty lists of distinct strings.
pub fn check_user_options(options: &Object) -> Result<()> {
    for (name, value) in options {
        if !USER_OPTIONS.contains(&name.as_str()) {
            return Err(options_invalid(
                "options",
                format!("Additional properties are not allowed ('{name}' was unexpected)"),
            ));
        }
        let path = format!("options/{name}");
        match value {
            Value::Null => {}
            Value::Array(rules) if name == MFA_RULES => validate_mfa_rules(&path, rules)?,
            Value::Bool(_) if name != MFA_RULES => {}
            other => {
                let kind = if name == MFA_RULES {
                    "'array', 'null'"
                } else {
                    "'boolean', 'null'"
                };
                return Err(options_invalid(
                    &path,
                    format!("{other} is not of type {kind}"),
                ));
            }
        }
    }
    Ok(())
}

fn validate_mfa_rules(path: &str, rules: &[Value]) -> Result<()> {
    for (i, rule) in rules.iter().enumerate() {
        let Value::Array(methods) = rule else {
            return Err(options_invalid(
                &format!("{path}/{i}"),
                format!("{rule} is not of type 'array'"),
            ));
        };
        if methods.is_empty() {
            return Err(options_invalid(
                &format!("{path}/{i}"),
                "[] is too short".into(),
            ));
        }
        for (j, m) in methods.iter().enumerate() {
            if !m.is_string() {
                return Err(options_invalid(
                    &format!("{path}/{i}/{j}"),
                    format!("{m} is not of type 'string'"),
                ));
            }
            if methods[..j].contains(m) {
                return Err(options_invalid(
                    &format!("{path}/{i}"),
                    format!("{rule} has non-unique elements"),
                ));
            }
        }
        if rules[..i].contains(rule) {
            return Err(options_invalid(
                path,
                format!("{} has non-unique elements", Value::Array(rules.to_vec())),
            ));
        }
    }
    Ok(())
}

/// The auth methods this service has (Keystone's loaded auth plugins).
const AUTH_METHODS: &[&str] = &["password", "token", "application_credential", "oauth1"];

/// Keystone's multi-factor rules: a user with `multi_factor_auth_rules`
/// (and `multi_factor_auth_enabled` not false) must have authenticated with
/// every method of one rule, counting only methods this service has (a rule
/// of none of them is ignored, so nobody is locked out). Refused: 401.
/// Keystone then issues an auth receipt to continue with; ferrostack issues
/// none, so every required method goes in the one request.
pub fn check_mfa_rules(user: &User, methods: &[String]) -> Result<()> {
    if user
        .options
        .get("multi_factor_auth_enabled")
        .and_then(Value::as_bool)
        == Some(false)
    {
        return Ok(());
    }
    let Some(Value::Array(rules)) = user.options.get(MFA_RULES) else {
        return Ok(());
    };
    let mut any_usable = false;
    for rule in rules {
        let Value::Array(rule) = rule else { continue };
        let needed: Vec<&str> = rule
            .iter()
            .filter_map(Value::as_str)
            .filter(|m| AUTH_METHODS.contains(m))
            .collect();
        if needed.is_empty() {
            continue;
        }
        any_usable = true;
        if needed.iter().all(|n| methods.iter().any(|m| m == n)) {
            return Ok(());
        }
    }
    if !any_usable {
        return Ok(());
    }
    let mut provided: Vec<&str> = Vec::new();
    for m in methods {
        if !provided.contains(&m.as_str()) {
            provided.push(m);
        }
    }
    Err(Error::unauthorized(format!(
        "Insufficient auth methods received for {}. Auth Methods Provided: [{}].",
        user.id,
        provided.join(",")
    )))
}

/// Merge requested options into a user's: null removes an option.
pub fn merge_user_options(current: &mut Object, requested: Object) {
    for (name, value) in requested {
        if value.is_null() {
            current.remove(&name);
        } else {
            current.insert(name, value);
        }
    }
}

/// When a password given now expires: at once when an admin set it and
/// it must be changed upon first use, after `password_expires_days`
/// (whole seconds, as Keystone), or never; a user may be exempt by option.
pub fn new_password_expiry(id: &Identity, user: &User, by_admin: bool, now: i64) -> Option<i64> {
    let rules = &id.config().security_compliance;
    if by_admin && rules.change_password_upon_first_use && !option_set(user, IGNORE_FIRST_USE) {
        return Some(now);
    }
    if rules.password_expires_days > 0 && !option_set(user, IGNORE_EXPIRY) {
        let at = now + i64::from(rules.password_expires_days) * MICROS_PER_DAY;
        return Some(at - at.rem_euclid(1_000_000));
    }
    None
}

/// Whether the user's password has expired (401 at login when so).
pub fn check_password_not_expired(user: &User) -> Result<()> {
    match user.password_expires_at {
        Some(at) if !option_set(user, IGNORE_EXPIRY) && now_micros() >= at => {
            Err(Error::unauthorized(format!(
                "The password is expired and needs to be changed for user: {}.",
                user.id
            )))
        }
        _ => Ok(()),
    }
}

fn today() -> i64 {
    now_micros().div_euclid(MICROS_PER_DAY)
}

/// Whether the user is enabled, counting `disable_user_account_days_inactive`:
/// a user who has not authenticated (or, never having, was created) that
/// many days ago is disabled unless exempt by option.
pub fn user_enabled(id: &Identity, user: &User) -> bool {
    if !user.enabled {
        return false;
    }
    let max_days = id
        .config()
        .security_compliance
        .disable_user_account_days_inactive;
    if max_days == 0 || option_set(user, IGNORE_INACTIVITY) {
        return true;
    }
    let last = user
        .last_active_day
        .or_else(|| user.created_at.map(|c| c.div_euclid(MICROS_PER_DAY)));
    match last {
        Some(day) => today() - day < i64::from(max_days),
        None => true,
    }
}

/// After a successful password login: remember the day (one write a day).
pub async fn mark_active(id: &Identity, user: &mut User) -> Result<()> {
    let day = today();
    if user.last_active_day != Some(day) {
        users::set_last_active_day(id.db(), &user.id, day).await?;
        user.last_active_day = Some(day);
    }
    Ok(())
}

/// The day an admin (re-)enables a user counts as activity.
pub fn on_enable(id: &Identity, user: &mut User) {
    if id
        .config()
        .security_compliance
        .disable_user_account_days_inactive
        > 0
    {
        user.last_active_day = Some(today());
    }
}

/// A user whose password is locked may not change it themselves (400).
pub fn check_self_service_allowed(user: &User) -> Result<()> {
    if option_set(user, LOCK_PASSWORD) {
        return Err(Error::bad_request(
            "You cannot change your password at this time due to password policy disallowing \
             password changes. Please contact your administrator to reset your password.",
        ));
    }
    Ok(())
}

/// Keystone's password login after the password itself was checked and
/// found good: a disabled (or inactive) user, then an expired password, are
/// refused (401, Keystone's messages); else the day is remembered.
pub async fn after_good_password(
    id: &Identity,
    user: &mut User,
    allow_expired: bool,
) -> Result<()> {
    if !user_enabled(id, user) {
        return Err(Error::unauthorized(format!(
            "The account is disabled for user: {}.",
            user.id
        )));
    }
    if !allow_expired {
        check_password_not_expired(user)?;
    }
    mark_active(id, user).await
}

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
