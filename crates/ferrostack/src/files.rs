//! Files written into the data dir for users: clouds.yaml, openrc, the
//! generated admin password and the bound address.

use std::fs;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use rand::RngCore;

/// Write `contents` to `path` atomically (temp file + rename), mode `mode`.
pub fn write_private(path: &Path, contents: &str, mode: u32) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut f = open_with_mode(&tmp, mode)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(unix)]
fn open_with_mode(path: &Path, mode: u32) -> anyhow::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    Ok(f)
}

#[cfg(not(unix))]
fn open_with_mode(path: &Path, _mode: u32) -> anyhow::Result<fs::File> {
    Ok(fs::File::create(path)?)
}

/// The admin password from the data dir, generated (and stored owner-only)
/// on first use. Returns the password and whether it was just generated.
pub fn stored_admin_password(data_dir: &Path) -> anyhow::Result<(String, bool)> {
    let path = data_dir.join("admin-password");
    if let Ok(text) = fs::read_to_string(&path) {
        let pw = text.trim().to_owned();
        if !pw.is_empty() {
            return Ok((pw, false));
        }
    }
    let mut bytes = [0u8; 18];
    rand::thread_rng().fill_bytes(&mut bytes);
    let pw: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &format!("{pw}\n"), 0o600)?;
    Ok((pw, true))
}

fn yaml_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// clouds.yaml with one cloud, `ferrostack`, as the admin.
pub fn clouds_yaml(auth_url: &str, password: &str, region: &str) -> String {
    format!(
        "clouds:\n  ferrostack:\n    auth:\n      auth_url: {}\n      username: admin\n      password: {}\n      \
         project_name: admin\n      user_domain_name: Default\n      project_domain_name: Default\n    \
         region_name: {}\n    interface: public\n    identity_api_version: 3\n",
        yaml_quote(auth_url),
        yaml_quote(password),
        yaml_quote(region),
    )
}

/// An openrc to `source`, with the same credentials.
pub fn openrc(auth_url: &str, password: &str, region: &str) -> String {
    format!(
        "# Source this file to use the openstack CLI against Ferrostack.\n\
         export OS_AUTH_URL={}\nexport OS_AUTH_TYPE=password\nexport OS_USERNAME=admin\n\
         export OS_PASSWORD={}\nexport OS_PROJECT_NAME=admin\nexport OS_USER_DOMAIN_NAME=Default\n\
         export OS_PROJECT_DOMAIN_NAME=Default\nexport OS_REGION_NAME={}\n\
         export OS_IDENTITY_API_VERSION=3\nexport OS_INTERFACE=public\n",
        shell_quote(auth_url),
        shell_quote(password),
        shell_quote(region),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_odd_passwords() {
        let y = clouds_yaml("http://h/identity", "it's: #x", "RegionOne");
        assert!(y.contains("password: 'it''s: #x'"));
        let r = openrc("http://h/identity", "a'b", "RegionOne");
        assert!(r.contains("OS_PASSWORD='a'\\''b'"));
    }
}
