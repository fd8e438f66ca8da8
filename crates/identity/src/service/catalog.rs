//! The service catalog as tokens and `/v3/auth/catalog` show it.

use serde_json::{json, Value};

use crate::error::Result;
use crate::Identity;

impl Identity {
    /// Enabled services with their enabled endpoints, URL templates filled
    /// for the token's project (endpoints needing a project are left out of
    /// project-less catalogs, as upstream).
    pub async fn catalog(&self, project_id: Option<&str>, user_id: &str) -> Result<Vec<Value>> {
        let rows = self.catalog_rows().await?;
        let (services, endpoints) = &*rows;
        let mut out = Vec::new();
        for s in services.iter().filter(|s| s.enabled) {
            let eps: Vec<Value> = endpoints
                .iter()
                .filter(|e| e.service_id == s.id && e.enabled)
                .filter_map(|e| {
                    let url = fill_template(&e.url, project_id, user_id)?;
                    Some(json!({
                        "id": e.id,
                        "interface": e.interface,
                        "region": e.region_id,
                        "region_id": e.region_id,
                        "url": url,
                    }))
                })
                .collect();
            out.push(json!({
                "id": s.id,
                "type": s.kind,
                "name": s.extra.get("name").cloned().unwrap_or(json!("")),
                "endpoints": eps,
            }));
        }
        Ok(out)
    }
}

/// Substitute `$(project_id)s`, `$(tenant_id)s` and `$(user_id)s`; `None` if
/// the URL needs a project and there is none.
pub fn fill_template(url: &str, project_id: Option<&str>, user_id: &str) -> Option<String> {
    let mut out = url
        .replace("$(user_id)s", user_id)
        .replace("%(user_id)s", user_id);
    for key in [
        "$(project_id)s",
        "$(tenant_id)s",
        "%(project_id)s",
        "%(tenant_id)s",
    ] {
        if out.contains(key) {
            out = out.replace(key, project_id?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::fill_template;

    #[test]
    fn templates() {
        assert_eq!(
            fill_template("http://x/volume/v3/$(project_id)s", Some("p"), "u").as_deref(),
            Some("http://x/volume/v3/p")
        );
        assert_eq!(fill_template("http://x/v3/%(tenant_id)s", None, "u"), None);
        assert_eq!(
            fill_template("http://x/identity", None, "u").as_deref(),
            Some("http://x/identity")
        );
    }
}
