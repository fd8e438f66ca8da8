//! What compute asks of the network service, in process.

use async_trait::async_trait;
use ferro_api::services::{
    DeviceNetwork, NetworkApi, PortInfo, PortRequest, SecurityGroupInfo, ServiceResult, SubnetInfo,
};
use ferro_api::{AuthContext, CommonError};
use serde_json::{json, Value};

use crate::compute_secgroups;
use crate::error::Error;
use crate::ipam::parse_ip;
use crate::logic::{self, auto_allocate, floatingips, ports, subnets, Ctx};
use crate::state::{bool_of, str_of, strings_of, Kind, Obj, State};
use crate::NetworkService;

/// Marks ports compute created (deleted on release) vs. ports the user passed.
const CREATED: &str = "_compute_created";
/// When a port was bound to its device (microseconds): a server's NICs keep
/// the order they were asked for in, whatever later updates do.
const BOUND_AT: &str = "_bound_at";

fn info(st: &State, p: &Obj) -> PortInfo {
    let net = st.get(Kind::Network, str_of(p, "network_id"));
    PortInfo {
        id: str_of(p, "id").to_owned(),
        network_id: str_of(p, "network_id").to_owned(),
        network_name: net
            .map(|n| str_of(n, "name").to_owned())
            .unwrap_or_default(),
        mac_address: str_of(p, "mac_address").to_owned(),
        fixed_ips: p["fixed_ips"]
            .as_array()
            .map(|ips| {
                ips.iter()
                    .map(|ip| {
                        let addr = ip["ip_address"].as_str().unwrap_or("").to_owned();
                        let v = if addr.contains(':') { 6 } else { 4 };
                        (ip["subnet_id"].as_str().unwrap_or("").to_owned(), addr, v)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        device_id: str_of(p, "device_id").to_owned(),
        device_owner: str_of(p, "device_owner").to_owned(),
        security_group_ids: strings_of(p, "security_groups"),
        floating_ips: st
            .by(Kind::FloatingIp, "port_id", str_of(p, "id"))
            .iter()
            .map(|f| str_of(f, "floating_ip_address").to_owned())
            .collect(),
        status: str_of(p, "status").to_owned(),
        port_security_enabled: bool_of(p, "port_security_enabled"),
        network_mtu: net
            .and_then(|n| n.get("mtu"))
            .and_then(Value::as_u64)
            .and_then(|m| u32::try_from(m).ok()),
        subnets: port_subnets(st, p),
    }
}

/// The subnets of a port's fixed IPs, each once, as Nova's network info
/// holds them (with the network's DHCP server on each).
fn port_subnets(st: &State, p: &Obj) -> Vec<SubnetInfo> {
    let dhcp_ports: Vec<&Obj> = st
        .by(Kind::Port, "network_id", str_of(p, "network_id"))
        .into_iter()
        .filter(|d| str_of(d, "device_owner") == "network:dhcp")
        .collect();
    let mut out: Vec<SubnetInfo> = Vec::new();
    for ip in p["fixed_ips"].as_array().into_iter().flatten() {
        let id = ip["subnet_id"].as_str().unwrap_or_default();
        if out.iter().any(|s| s.id == id) {
            continue;
        }
        let Some(s) = st.get(Kind::Subnet, id) else {
            continue;
        };
        let opt = |k: &str| s.get(k).and_then(Value::as_str).map(str::to_owned);
        out.push(SubnetInfo {
            id: id.to_owned(),
            cidr: str_of(s, "cidr").to_owned(),
            ip_version: s.get("ip_version").and_then(Value::as_u64).unwrap_or(4) as u8,
            gateway_ip: opt("gateway_ip"),
            enable_dhcp: bool_of(s, "enable_dhcp"),
            dhcp_server: dhcp_ports.iter().find_map(|d| {
                d["fixed_ips"]
                    .as_array()?
                    .iter()
                    .find(|f| f["subnet_id"].as_str() == Some(id))?["ip_address"]
                    .as_str()
                    .map(str::to_owned)
            }),
            dns_nameservers: strings_of(s, "dns_nameservers"),
            host_routes: s
                .get("host_routes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    Some((
                        r["destination"].as_str()?.to_owned(),
                        r["nexthop"].as_str()?.to_owned(),
                    ))
                })
                .collect(),
            ipv6_address_mode: opt("ipv6_address_mode"),
            ipv6_ra_mode: opt("ipv6_ra_mode"),
        });
    }
    out
}

/// The device's ports the caller may see, in the order they were bound
/// (ports bound otherwise, by a port update, after those).
fn device_ports(st: &State, ctx: &Ctx, device_id: &str) -> Vec<PortInfo> {
    let mut ports: Vec<&Obj> = st
        .by(Kind::Port, "device_id", device_id)
        .into_iter()
        .filter(|p| logic::visible(st, Kind::Port, p, ctx))
        .collect();
    ports.sort_by_key(|p| {
        (
            p.get(BOUND_AT).and_then(Value::as_i64).unwrap_or(i64::MAX),
            str_of(p, "updated_at").to_owned(),
            str_of(p, "id").to_owned(),
        )
    });
    ports.into_iter().map(|p| info(st, p)).collect()
}

fn unbind(st: &mut State, port_id: &str) {
    for fip in st.ids_by(Kind::FloatingIp, "port_id", port_id) {
        if let Some(f) = st.get_mut(Kind::FloatingIp, &fip) {
            floatingips::clear_association(f);
        }
    }
    if bool_of(st.get(Kind::Port, port_id).unwrap_or(&Obj::new()), CREATED) {
        ports::remove(st, port_id);
    } else if let Some(p) = st.get_mut(Kind::Port, port_id) {
        p.insert("device_id".into(), json!(""));
        p.insert("device_owner".into(), json!(""));
        p.insert("binding:host_id".into(), json!(""));
        p.remove(BOUND_AT);
        ports::refresh_status(p);
        logic::touch(p);
    }
}

#[async_trait]
impl NetworkApi for NetworkService {
    async fn bootable_networks(&self, ctx: &AuthContext) -> ServiceResult<Vec<String>> {
        let ctx = Ctx::from_auth(ctx);
        let st = self.read().await?;
        let mut nets: Vec<&Obj> = st
            .iter(Kind::Network)
            .filter(|n| {
                ctx.owns(n) && (!ctx.admin || str_of(n, "project_id") == ctx.project_id)
                    || bool_of(n, "shared")
            })
            .filter(|n| !bool_of(n, "router:external") || bool_of(n, "shared"))
            .collect();
        nets.sort_by_key(|n| {
            (
                str_of(n, "created_at").to_owned(),
                str_of(n, "id").to_owned(),
            )
        });
        Ok(nets
            .into_iter()
            .map(|n| str_of(n, "id").to_owned())
            .collect())
    }

    async fn check_port_request(&self, ctx: &AuthContext, req: &PortRequest) -> ServiceResult<()> {
        let st = self.read().await?;
        let ctx = Ctx::from_auth(ctx);
        if let Some(pid) = &req.port_id {
            let p = logic::fetch(&st, Kind::Port, pid, &ctx)?;
            if !str_of(p, "device_id").is_empty() {
                return Err(CommonError::conflict(format!(
                    "Port {pid} is still in use."
                )));
            }
            return Ok(());
        }
        let Some(net) = &req.network_id else {
            return Ok(());
        };
        logic::fetch(&st, Kind::Network, net, &ctx)?;
        let Some(ip) = &req.fixed_ip else {
            return Ok(());
        };
        let (addr, v6) = parse_ip(ip)
            .ok_or_else(|| CommonError::bad_request(format!("Invalid fixed IP address ({ip})")))?;
        let subnet = st
            .by(Kind::Subnet, "network_id", net)
            .into_iter()
            .find(|s| subnets::cidr_of(s).is_some_and(|c| c.contains(addr, v6)))
            .ok_or_else(|| {
                CommonError::not_found(format!(
                    "Fixed IP address {ip} is not in any subnet of network {net}."
                ))
            })?;
        if subnets::ip_used(&st, str_of(subnet, "id"), addr, None) {
            return Err(CommonError::conflict(format!(
                "Fixed IP address {ip} is already in use on instance or port."
            )));
        }
        Ok(())
    }

    async fn allocate_port(
        &self,
        ctx: &AuthContext,
        req: &PortRequest,
        device_id: &str,
        device_owner: &str,
    ) -> ServiceResult<PortInfo> {
        let ctx = Ctx::from_auth(ctx);
        let host = self.inner.config.host.clone();
        let out = self
            .write(|st| {
                let id = if let Some(pid) = &req.port_id {
                    let p = logic::fetch_owned(st, Kind::Port, pid, &ctx, "update_port")?;
                    if !str_of(p, "device_id").is_empty() {
                        return Err(Error::conflict("PortInUse", format!(
                            "Unable to complete operation on port {pid} for network {}. Port already has an attached device {}.",
                            str_of(p, "network_id"), str_of(p, "device_id")
                        )));
                    }
                    pid.clone()
                } else if let Some(net) = &req.network_id {
                    let mut body = Obj::new();
                    body.insert("network_id".into(), json!(net));
                    if let Some(ip) = &req.fixed_ip {
                        body.insert("fixed_ips".into(), json!([{"ip_address": ip}]));
                    }
                    if !req.security_groups.is_empty() {
                        body.insert("security_groups".into(), json!(req.security_groups));
                    }
                    let p = ports::create(st, &ctx, &body)?;
                    let id = str_of(&p, "id").to_owned();
                    if let Some(stored) = st.get_mut(Kind::Port, &id) {
                        stored.insert(CREATED.into(), json!(true));
                    }
                    id
                } else {
                    return Err(Error::bad_request("A port_id or a network_id is required."));
                };
                let p = st.get_mut(Kind::Port, &id).ok_or_else(|| Kind::Port.not_found(&id))?;
                p.insert("device_id".into(), json!(device_id));
                p.insert("device_owner".into(), json!(device_owner));
                p.insert("binding:host_id".into(), json!(host));
                p.insert(BOUND_AT.into(), json!(ferro_api::time::now_micros()));
                ports::refresh_status(p);
                logic::touch(p);
                let p = p.clone();
                Ok(info(st, &p))
            })
            .await?;
        Ok(out)
    }

    async fn ports_of_device(
        &self,
        ctx: &AuthContext,
        device_id: &str,
    ) -> ServiceResult<Vec<PortInfo>> {
        let st = self.read().await?;
        Ok(device_ports(&st, &Ctx::from_auth(ctx), device_id))
    }

    async fn device_networks(
        &self,
        devices: &[(AuthContext, String)],
    ) -> ServiceResult<Vec<DeviceNetwork>> {
        let st = self.read().await?;
        Ok(devices
            .iter()
            .map(|(owner, device_id)| {
                let ctx = Ctx::from_auth(owner);
                let ports = device_ports(&st, &ctx, device_id);
                let mut seen: Vec<&str> = Vec::new();
                let mut names = Vec::new();
                for id in ports.iter().flat_map(|p| p.security_group_ids.iter()) {
                    if seen.contains(&id.as_str()) {
                        continue;
                    }
                    seen.push(id);
                    if let Some(g) = st
                        .get(Kind::SecurityGroup, id)
                        .filter(|g| logic::visible(&st, Kind::SecurityGroup, g, &ctx))
                    {
                        names.push(str_of(g, "name").to_owned());
                    }
                }
                DeviceNetwork {
                    ports,
                    security_group_names: names,
                }
            })
            .collect())
    }

    async fn release_ports(&self, _ctx: &AuthContext, device_id: &str) -> ServiceResult<()> {
        self.write(|st| {
            let ids: Vec<String> = st
                .by(Kind::Port, "device_id", device_id)
                .into_iter()
                .filter(|p| str_of(p, "device_owner").starts_with("compute:"))
                .map(|p| str_of(p, "id").to_owned())
                .collect();
            for id in ids {
                unbind(st, &id);
            }
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn find_security_group(
        &self,
        ctx: &AuthContext,
        name_or_id: &str,
    ) -> ServiceResult<SecurityGroupInfo> {
        let ctx = Ctx::from_auth(ctx);
        let name = name_or_id.to_owned();
        Ok(self
            .write(move |st| compute_secgroups::find(st, &ctx, &name))
            .await?)
    }

    async fn security_groups(
        &self,
        ctx: &AuthContext,
        ids: &[String],
    ) -> ServiceResult<Vec<SecurityGroupInfo>> {
        let ctx = Ctx::from_auth(ctx);
        let st = self.read().await?;
        Ok(ids
            .iter()
            .filter_map(|id| st.get(Kind::SecurityGroup, id))
            .filter(|g| logic::visible(&st, Kind::SecurityGroup, g, &ctx))
            .map(|g| compute_secgroups::group_info(&st, g))
            .collect())
    }

    async fn set_port_security_groups(
        &self,
        _ctx: &AuthContext,
        port_id: &str,
        group_ids: &[String],
    ) -> ServiceResult<()> {
        let (port, ids) = (port_id.to_owned(), group_ids.to_vec());
        self.write(move |st| compute_secgroups::set_port_groups(st, &port, &ids))
            .await?;
        Ok(())
    }

    async fn release_port(
        &self,
        _ctx: &AuthContext,
        device_id: &str,
        port_id: &str,
    ) -> ServiceResult<()> {
        self.write(|st| {
            let bound = st
                .get(Kind::Port, port_id)
                .is_some_and(|p| str_of(p, "device_id") == device_id);
            if !bound {
                return Err(Error::not_found(
                    "PortNotFound",
                    format!("Port {port_id} is not attached to {device_id}."),
                ));
            }
            unbind(st, port_id);
            Ok(())
        })
        .await?;
        Ok(())
    }

    async fn auto_allocated_network(&self, ctx: &AuthContext) -> ServiceResult<String> {
        let ctx = Ctx::from_auth(ctx);
        let project = auto_allocate::project(&ctx, "None")?;
        if let Some(id) = auto_allocate::network_of(&*self.read().await?, &project) {
            return Ok(id);
        }
        Ok(self
            .write(|st| auto_allocate::get_or_create(st, &project))
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ferro_api::context::BoxFuture;
    use ferro_api::TokenValidator;

    use super::*;

    struct NoTokens;
    impl TokenValidator for NoTokens {
        fn validate<'a>(&'a self, _t: &'a str) -> BoxFuture<'a, Option<AuthContext>> {
            Box::pin(async { None })
        }
    }

    fn member(project: &str) -> AuthContext {
        AuthContext {
            project_id: Some(project.into()),
            roles: vec!["member".into()],
            ..Default::default()
        }
    }

    async fn service() -> NetworkService {
        let dir = std::env::temp_dir().join(format!("ferro-net-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = ferro_store::Db::connect(&format!("sqlite://{}", dir.join("db").display()))
            .await
            .unwrap();
        ferro_store::migrate(&db, crate::MIGRATIONS).await.unwrap();
        let svc = NetworkService::new(
            db,
            Arc::new(NoTokens),
            crate::Config {
                data_dir: dir,
                host: "h1".into(),
            },
        );
        svc.recover().await.unwrap();
        svc
    }

    #[tokio::test]
    async fn allocate_list_release() {
        let svc = service().await;
        let auth = member("p1");
        let ctx = Ctx::from_auth(&auth);
        let (net, user_port) = svc
            .write(|st| {
                let body = json!({"name": "private"});
                let n = crate::logic::networks::create(st, &ctx, body.as_object().unwrap())?;
                let nid = str_of(&n, "id").to_owned();
                let s = json!({"network_id": nid, "cidr": "10.0.0.0/29", "ip_version": 4});
                crate::logic::subnets::create(st, &ctx, s.as_object().unwrap())?;
                let p = ports::create(st, &ctx, json!({"network_id": nid}).as_object().unwrap())?;
                Ok((nid, str_of(&p, "id").to_owned()))
            })
            .await
            .unwrap();
        assert_eq!(
            svc.bootable_networks(&auth).await.unwrap(),
            vec![net.clone()]
        );
        let req = PortRequest {
            network_id: Some(net.clone()),
            fixed_ip: Some("10.0.0.5".into()),
            ..Default::default()
        };
        let created = svc
            .allocate_port(&auth, &req, "vm1", "compute:nova")
            .await
            .unwrap();
        assert_eq!(created.network_name, "private");
        assert_eq!(created.status, "ACTIVE");
        assert_eq!(created.fixed_ips[0].1, "10.0.0.5");
        assert_eq!(created.security_group_ids.len(), 1);
        // the same IP again is a conflict
        let err = svc
            .allocate_port(&auth, &req, "vm2", "compute:nova")
            .await
            .unwrap_err();
        assert_eq!(err.status(), http::StatusCode::CONFLICT);
        let claim = PortRequest {
            port_id: Some(user_port.clone()),
            ..Default::default()
        };
        svc.allocate_port(&auth, &claim, "vm1", "compute:nova")
            .await
            .unwrap();
        // a bound port cannot be claimed twice
        let err = svc
            .allocate_port(&auth, &claim, "vm2", "compute:nova")
            .await
            .unwrap_err();
        assert_eq!(err.status(), http::StatusCode::CONFLICT);
        assert_eq!(svc.ports_of_device(&auth, "vm1").await.unwrap().len(), 2);
        // another project sees none of them
        assert!(svc
            .ports_of_device(&member("p2"), "vm1")
            .await
            .unwrap()
            .is_empty());
        svc.release_ports(&auth, "vm1").await.unwrap();
        assert!(svc.ports_of_device(&auth, "vm1").await.unwrap().is_empty());
        let st = svc.read().await.unwrap();
        assert!(
            st.get(Kind::Port, &created.id).is_none(),
            "created port deleted"
        );
        let kept = st.get(Kind::Port, &user_port).unwrap();
        assert_eq!(str_of(kept, "device_id"), "");
        assert_eq!(str_of(kept, "status"), "DOWN");
    }
    #[tokio::test]
    async fn auto_allocated_network_is_made_once() {
        let svc = service().await;
        let auth = member("p1");
        let err = svc.auto_allocated_network(&auth).await.unwrap_err();
        assert_eq!(err.status(), http::StatusCode::CONFLICT);
        assert_eq!(
            err.to_string(),
            "Deployment error: No default router:external network."
        );
        let admin = AuthContext {
            project_id: Some("admin".into()),
            roles: vec!["admin".into()],
            ..Default::default()
        };
        assert!(admin.is_admin());
        let actx = Ctx::from_auth(&admin);
        svc.write(|st| {
            let body = json!({"router:external": true, "is_default": true});
            let n = crate::logic::networks::create(st, &actx, body.as_object().unwrap())?;
            let s = json!({"network_id": n["id"], "cidr": "172.24.4.0/24", "ip_version": 4});
            crate::logic::subnets::create(st, &actx, s.as_object().unwrap())
        })
        .await
        .unwrap();
        let net = svc.auto_allocated_network(&auth).await.unwrap();
        assert_eq!(svc.auto_allocated_network(&auth).await.unwrap(), net);
        assert_eq!(
            svc.bootable_networks(&auth).await.unwrap(),
            vec![net.clone()]
        );
        let other = svc.auto_allocated_network(&member("p2")).await.unwrap();
        assert_ne!(other, net);
        let no_project = AuthContext::default();
        let err = svc.auto_allocated_network(&no_project).await.unwrap_err();
        assert_eq!(err.status(), http::StatusCode::FORBIDDEN);
    }
}
