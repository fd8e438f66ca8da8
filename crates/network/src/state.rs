//! The service's state: every resource as its JSON object, kept in memory
//! and written through to the database. Writers work on a copy under one
//! lock and commit the changed objects in one transaction, so a failed
//! request never leaves anything half-written.
//!
//! Several processes may share one database. A single-row counter, the
//! *generation*, orders every committed change: a writer bumps it first in
//! its transaction (on PostgreSQL this row lock serialises writers across
//! processes), stamps the rows it writes (`rev`) and the ids it removes
//! (`net_removed`) with the new value, and a process whose copy is older than
//! the stored generation replays the changes stamped after its own.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ferro_store::{Db, Migration};
use serde_json::{Map, Value};

use crate::error::Result;

pub type Obj = Map<String, Value>;

/// A stored resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Network,
    Subnet,
    Port,
    SecurityGroup,
    SecurityGroupRule,
    Router,
    FloatingIp,
    Quota,
    SubnetPool,
    AddressScope,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::Network,
        Kind::Subnet,
        Kind::Port,
        Kind::SecurityGroup,
        Kind::SecurityGroupRule,
        Kind::Router,
        Kind::FloatingIp,
        Kind::Quota,
        Kind::SubnetPool,
        Kind::AddressScope,
    ];

    pub fn tag(self) -> &'static str {
        match self {
            Kind::Network => "network",
            Kind::Subnet => "subnet",
            Kind::Port => "port",
            Kind::SecurityGroup => "security_group",
            Kind::SecurityGroupRule => "security_group_rule",
            Kind::Router => "router",
            Kind::FloatingIp => "floatingip",
            Kind::Quota => "quota",
            Kind::SubnetPool => "subnetpool",
            Kind::AddressScope => "address_scope",
        }
    }

    pub fn collection(self) -> &'static str {
        match self {
            Kind::Network => "networks",
            Kind::Subnet => "subnets",
            Kind::Port => "ports",
            Kind::SecurityGroup => "security_groups",
            Kind::SecurityGroupRule => "security_group_rules",
            Kind::Router => "routers",
            Kind::FloatingIp => "floatingips",
            Kind::Quota => "quotas",
            Kind::SubnetPool => "subnetpools",
            Kind::AddressScope => "address_scopes",
        }
    }

    /// Upstream's exception name for a missing resource.
    pub fn not_found_type(self) -> &'static str {
        match self {
            Kind::Network => "NetworkNotFound",
            Kind::Subnet => "SubnetNotFound",
            Kind::Port => "PortNotFound",
            Kind::SecurityGroup => "SecurityGroupNotFound",
            Kind::SecurityGroupRule => "SecurityGroupRuleNotFound",
            Kind::Router => "RouterNotFound",
            Kind::FloatingIp => "FloatingIPNotFound",
            Kind::Quota => "HTTPNotFound",
            Kind::SubnetPool => "SubnetPoolNotFound",
            Kind::AddressScope => "AddressScopeNotFound",
        }
    }

    /// Upstream's wording of a missing resource.
    pub fn not_found_message(self, id: &str) -> String {
        match self {
            Kind::Network => format!("Network {id} could not be found."),
            Kind::Subnet => format!("Subnet {id} could not be found."),
            Kind::Port => format!("Port {id} could not be found."),
            Kind::SecurityGroup => format!("Security group {id} does not exist"),
            Kind::SecurityGroupRule => format!("Security group rule {id} does not exist"),
            Kind::Router => format!("Router {id} could not be found"),
            Kind::FloatingIp => format!("Floating IP {id} could not be found"),
            Kind::Quota => format!("Quota for {id} could not be found."),
            Kind::SubnetPool => format!("Subnet pool {id} could not be found."),
            Kind::AddressScope => format!("Address scope {id} could not be found."),
        }
    }

    pub fn not_found(self, id: &str) -> crate::error::Error {
        crate::error::Error::not_found(self.not_found_type(), self.not_found_message(id))
    }

    fn from_tag(tag: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.tag() == tag)
    }
}

/// How an index files an object: under the string at its key, or (for
/// [`FIXED_IP`]) under each of its fixed IPs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keys {
    Field,
    FixedIps,
}

/// The index of ports by fixed IP: values made by [`fixed_ip_key`].
pub const FIXED_IP: &str = "fixed_ip";

/// The value a port with `addr` on `subnet_id` is filed under in [`FIXED_IP`]:
/// the address zero-padded, so a subnet's addresses sort in numeric order.
pub fn fixed_ip_key(subnet_id: &str, addr: u128) -> String {
    format!("{subnet_id} {addr:039}")
}

/// The `(kind, key)` pairs [`State::by`] and [`State::any_by`] answer from
/// an index instead of a scan: the lookups made per port, per device, per
/// network, and the uniqueness checks of MAC and IP addresses.
const INDEXED: &[(Kind, &str, Keys)] = &[
    (Kind::Port, "device_id", Keys::Field),
    (Kind::Port, "network_id", Keys::Field),
    (Kind::Port, "mac_address", Keys::Field),
    (Kind::Port, FIXED_IP, Keys::FixedIps),
    (Kind::Subnet, "network_id", Keys::Field),
    (Kind::FloatingIp, "port_id", Keys::Field),
    (Kind::FloatingIp, "router_id", Keys::Field),
    (Kind::FloatingIp, "floating_network_id", Keys::Field),
    (Kind::SecurityGroupRule, "security_group_id", Keys::Field),
];

/// The values `o` is filed under in the index `key`.
fn keys_of(o: &Obj, key: &str, how: Keys) -> Vec<String> {
    match how {
        Keys::Field => vec![str_of(o, key).to_owned()],
        Keys::FixedIps => o
            .get("fixed_ips")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|ip| {
                let (addr, _) = crate::ipam::parse_ip(ip["ip_address"].as_str()?)?;
                Some(fixed_ip_key(ip["subnet_id"].as_str()?, addr))
            })
            .collect(),
    }
}

fn filed_under(o: &Obj, key: &str, how: Keys, value: &str) -> bool {
    match how {
        Keys::Field => str_of(o, key) == value,
        Keys::FixedIps => keys_of(o, key, how).iter().any(|k| k == value),
    }
}

/// Ids of the objects of one kind per value of one of their string keys.
type Index = BTreeMap<String, BTreeSet<String>>;

/// Every resource, by kind and id.
#[derive(Clone, Default)]
pub struct State {
    objs: BTreeMap<Kind, BTreeMap<String, Obj>>,
    /// What the current write changed: each touched object's value before
    /// the write (`None` when it did not exist), to undo a failed write.
    undo: BTreeMap<(Kind, String), Option<Obj>>,
    /// For each [`INDEXED`] pair: the ids per value, as of the last kept
    /// change. Objects the current write touched (the keys of `undo`) may
    /// differ from it; `by` looks at those directly.
    index: HashMap<(Kind, &'static str), Index>,
    /// The stored generation this copy reflects.
    generation: i64,
}

impl State {
    pub fn generation(&self) -> i64 {
        self.generation
    }

    pub fn set_generation(&mut self, generation: i64) {
        self.generation = generation;
    }

    pub fn is_dirty(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Remember `id`'s value before its first change in this write.
    fn touch(&mut self, kind: Kind, id: &str) {
        let key = (kind, id.to_owned());
        if !self.undo.contains_key(&key) {
            let before = self.get(kind, id).cloned();
            self.undo.insert(key, before);
        }
    }

    /// Put back every object the current write changed.
    pub fn rollback(&mut self) {
        for ((kind, id), before) in std::mem::take(&mut self.undo) {
            let objs = self.objs.entry(kind).or_default();
            match before {
                Some(obj) => {
                    objs.insert(id, obj);
                }
                None => {
                    objs.remove(&id);
                }
            }
        }
    }

    pub fn get(&self, kind: Kind, id: &str) -> Option<&Obj> {
        self.objs.get(&kind)?.get(id)
    }

    pub fn get_mut(&mut self, kind: Kind, id: &str) -> Option<&mut Obj> {
        self.objs.get(&kind)?.get(id)?;
        self.touch(kind, id);
        self.objs.get_mut(&kind)?.get_mut(id)
    }

    pub fn put(&mut self, kind: Kind, obj: Obj) {
        let id = str_of(&obj, "id").to_owned();
        self.touch(kind, &id);
        self.objs.entry(kind).or_default().insert(id, obj);
    }

    pub fn remove(&mut self, kind: Kind, id: &str) -> Option<Obj> {
        self.touch(kind, id);
        self.objs.get_mut(&kind)?.remove(id)
    }

    pub fn iter(&self, kind: Kind) -> impl Iterator<Item = &Obj> {
        self.objs.get(&kind).into_iter().flat_map(|m| m.values())
    }

    /// Objects of `kind` whose `key` is the string `value` (or, for an
    /// index like [`FIXED_IP`], filed under `value`), in id order.
    pub fn by<'a>(&'a self, kind: Kind, key: &'a str, value: &'a str) -> Vec<&'a Obj> {
        let Some((how, index)) = self.index_of(kind, key) else {
            return self
                .iter(kind)
                .filter(|o| str_of(o, key) == value)
                .collect();
        };
        let mut ids: BTreeSet<&str> = index
            .get(value)
            .map(|ids| ids.iter().map(String::as_str).collect())
            .unwrap_or_default();
        ids.extend(self.touched(kind));
        ids.into_iter()
            .filter_map(|id| self.get(kind, id))
            .filter(|o| filed_under(o, key, how, value))
            .collect()
    }

    /// Whether some object of `kind` filed under `value` at `key` also
    /// satisfies `also`; without building a list.
    pub fn any_by(&self, kind: Kind, key: &str, value: &str, also: impl Fn(&Obj) -> bool) -> bool {
        let Some((how, index)) = self.index_of(kind, key) else {
            return self.iter(kind).any(|o| str_of(o, key) == value && also(o));
        };
        index
            .get(value)
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain(self.touched(kind))
            .filter_map(|id| self.get(kind, id))
            .any(|o| filed_under(o, key, how, value) && also(o))
    }

    /// The addresses in `lo..=hi` that ports held on `subnet_id` at the last
    /// kept change, in ascending order (the current write's changes are not
    /// in it: check a candidate with [`Self::any_by`] before using it).
    pub fn kept_fixed_ips(
        &self,
        subnet_id: &str,
        lo: u128,
        hi: u128,
    ) -> impl Iterator<Item = u128> + '_ {
        let index = self
            .index
            .get(&(Kind::Port, FIXED_IP))
            .unwrap_or(&EMPTY_INDEX);
        index
            .range(fixed_ip_key(subnet_id, lo)..=fixed_ip_key(subnet_id, hi))
            .filter_map(|(key, _)| key.rsplit(' ').next()?.parse().ok())
    }

    /// Ids of the objects of `kind` the current write touched: the index
    /// may not reflect them yet.
    fn touched(&self, kind: Kind) -> impl Iterator<Item = &str> {
        self.undo
            .keys()
            .filter(move |(k, _)| *k == kind)
            .map(|(_, id)| id.as_str())
    }

    /// The index of `(kind, key)` if there is one; `None` for pairs not in
    /// [`INDEXED`].
    fn index_of(&self, kind: Kind, key: &str) -> Option<(Keys, &Index)> {
        let &(k, name, how) = INDEXED
            .iter()
            .find(|(k, name, _)| *k == kind && *name == key)?;
        Some((how, self.index.get(&(k, name)).unwrap_or(&EMPTY_INDEX)))
    }

    pub fn ids_by(&self, kind: Kind, key: &str, value: &str) -> Vec<String> {
        self.by(kind, key, value)
            .into_iter()
            .map(|o| str_of(o, "id").to_owned())
            .collect()
    }

    /// Keep the current write's changes (they are committed): the index
    /// moves each touched object from its old values to its new ones.
    pub fn clear_dirty(&mut self) {
        for ((kind, id), before) in std::mem::take(&mut self.undo) {
            for &(k, key, how) in INDEXED.iter().filter(|(k, _, _)| *k == kind) {
                let old = before
                    .as_ref()
                    .map(|o| keys_of(o, key, how))
                    .unwrap_or_default();
                let new = self
                    .get(kind, &id)
                    .map(|o| keys_of(o, key, how))
                    .unwrap_or_default();
                if old == new {
                    continue;
                }
                let index = self.index.entry((k, key)).or_default();
                for value in &old {
                    if let Some(ids) = index.get_mut(value) {
                        ids.remove(&id);
                        if ids.is_empty() {
                            index.remove(value);
                        }
                    }
                }
                for value in new {
                    index.entry(value).or_default().insert(id.clone());
                }
            }
        }
    }
}

static EMPTY_INDEX: Index = BTreeMap::new();

/// The string at `key`, or "" when absent or not a string.
pub fn str_of<'a>(obj: &'a Obj, key: &str) -> &'a str {
    obj.get(key).and_then(Value::as_str).unwrap_or("")
}

pub fn bool_of(obj: &Obj, key: &str) -> bool {
    obj.get(key).and_then(Value::as_bool).unwrap_or(false)
}

/// The strings of a list attribute (`tags`, `security_groups`,
/// `dns_nameservers`...); empty when absent.
pub fn strings_of(obj: &Obj, key: &str) -> Vec<String> {
    obj.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 3000,
        name: "network objects",
        sql: "CREATE TABLE net_objects (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        project_id TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    )",
    },
    Migration {
        version: 3001,
        name: "network change generations",
        sql: "ALTER TABLE net_objects ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
        CREATE INDEX net_objects_rev ON net_objects (rev);
        CREATE TABLE net_removed (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            rev BIGINT NOT NULL,
            PRIMARY KEY (kind, id)
        );
        CREATE INDEX net_removed_rev ON net_removed (rev);
        CREATE TABLE net_generation (id TEXT PRIMARY KEY, generation BIGINT NOT NULL);
        INSERT INTO net_generation (id, generation) VALUES ('state', 0);",
    },
];

type Conn = ferro_store::sqlx::AnyConnection;

/// The stored generation.
pub async fn generation(conn: &mut Conn) -> Result<i64> {
    let gen: i64 =
        ferro_store::sqlx::query_scalar("SELECT generation FROM net_generation WHERE id = 'state'")
            .fetch_one(conn)
            .await?;
    Ok(gen)
}

/// Bump the stored generation inside a write transaction; returns the new
/// value. On PostgreSQL the row stays locked until the transaction ends.
pub async fn next_generation(conn: &mut Conn) -> Result<i64> {
    let gen: i64 = ferro_store::sqlx::query_scalar(
        "UPDATE net_generation SET generation = generation + 1 WHERE id = 'state' RETURNING generation",
    )
    .fetch_one(conn)
    .await?;
    Ok(gen)
}

/// Read every stored object.
pub async fn load(db: &Db) -> Result<State> {
    let mut conn = db.read().acquire().await?;
    let mut state = State::default();
    catch_up(&mut conn, &mut state).await?;
    Ok(state)
}

/// Bring `state` up to the stored generation by replaying the removals and
/// writes stamped after its own. The generation is read first: a change
/// committed meanwhile is replayed now and again next time, which is harmless.
pub async fn catch_up(conn: &mut Conn, state: &mut State) -> Result<()> {
    use ferro_store::sqlx::Row;
    let now = generation(conn).await?;
    let since = state.generation;
    let removed = ferro_store::sqlx::query("SELECT kind, id FROM net_removed WHERE rev > $1")
        .bind(since)
        .fetch_all(&mut *conn)
        .await?;
    for row in removed {
        let kind: String = row.try_get(0)?;
        let id: String = row.try_get(1)?;
        if let Some(kind) = Kind::from_tag(&kind) {
            state.remove(kind, &id);
        }
    }
    let rows = ferro_store::sqlx::query("SELECT kind, body FROM net_objects WHERE rev > $1")
        .bind(if since == 0 { -1 } else { since })
        .fetch_all(&mut *conn)
        .await?;
    for row in rows {
        let kind: String = row.try_get(0)?;
        let body: String = row.try_get(1)?;
        let Some(kind) = Kind::from_tag(&kind) else {
            continue;
        };
        match serde_json::from_str::<Value>(&body) {
            Ok(Value::Object(obj)) => state.put(kind, obj),
            _ => tracing::warn!(kind = kind.tag(), "skipping an unreadable stored object"),
        }
    }
    state.clear_dirty();
    state.generation = state.generation.max(now);
    Ok(())
}

/// Write the objects `state` changed, stamped with `rev`, in the caller's
/// transaction.
pub async fn write_changes(conn: &mut Conn, state: &State, rev: i64) -> Result<()> {
    for (kind, id) in state.undo.keys() {
        match state.get(*kind, id) {
            Some(obj) => {
                let body = serde_json::to_string(obj)
                    .map_err(|e| crate::error::Error::internal(e.to_string()))?;
                ferro_store::sqlx::query(
                    "INSERT INTO net_objects (kind, id, project_id, body, rev) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (kind, id) DO UPDATE SET project_id = excluded.project_id,
                        body = excluded.body, rev = excluded.rev",
                )
                .bind(kind.tag())
                .bind(id)
                .bind(str_of(obj, "project_id"))
                .bind(body)
                .bind(rev)
                .execute(&mut *conn)
                .await?;
                ferro_store::sqlx::query("DELETE FROM net_removed WHERE kind = $1 AND id = $2")
                    .bind(kind.tag())
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            None => {
                ferro_store::sqlx::query("DELETE FROM net_objects WHERE kind = $1 AND id = $2")
                    .bind(kind.tag())
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                ferro_store::sqlx::query(
                    "INSERT INTO net_removed (kind, id, rev) VALUES ($1, $2, $3)
                     ON CONFLICT (kind, id) DO UPDATE SET rev = excluded.rev",
                )
                .bind(kind.tag())
                .bind(id)
                .bind(rev)
                .execute(&mut *conn)
                .await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(id: &str, name: &str) -> Obj {
        let Value::Object(o) = json!({"id": id, "name": name}) else {
            unreachable!()
        };
        o
    }

    #[test]
    fn rollback_restores_every_touched_object() {
        let mut st = State::default();
        st.put(Kind::Network, obj("a", "first"));
        st.put(Kind::Network, obj("b", "second"));
        st.clear_dirty();

        st.put(Kind::Network, obj("c", "new"));
        st.get_mut(Kind::Network, "a")
            .unwrap()
            .insert("name".into(), json!("changed"));
        st.get_mut(Kind::Network, "a")
            .unwrap()
            .insert("name".into(), json!("changed twice"));
        st.remove(Kind::Network, "b");
        assert!(st.is_dirty());
        st.rollback();

        assert!(!st.is_dirty());
        assert!(st.get(Kind::Network, "c").is_none());
        assert_eq!(str_of(st.get(Kind::Network, "a").unwrap(), "name"), "first");
        assert_eq!(
            str_of(st.get(Kind::Network, "b").unwrap(), "name"),
            "second"
        );
    }

    fn port(id: &str, device: &str) -> Obj {
        let Value::Object(o) = json!({"id": id, "device_id": device}) else {
            unreachable!()
        };
        o
    }

    fn ids(objs: Vec<&Obj>) -> Vec<&str> {
        objs.into_iter().map(|o| str_of(o, "id")).collect()
    }

    #[test]
    fn indexed_lookups_follow_writes_kept_and_undone() {
        let mut st = State::default();
        st.put(Kind::Port, port("p2", "vm1"));
        st.put(Kind::Port, port("p1", "vm1"));
        st.put(Kind::Port, port("p3", "vm2"));
        // Before the write is kept, the touched objects are looked at directly.
        assert_eq!(ids(st.by(Kind::Port, "device_id", "vm1")), ["p1", "p2"]);
        st.clear_dirty();
        assert_eq!(ids(st.by(Kind::Port, "device_id", "vm1")), ["p1", "p2"]);

        // Moved, removed, added: visible at once, and after keeping.
        st.get_mut(Kind::Port, "p2")
            .unwrap()
            .insert("device_id".into(), json!("vm2"));
        st.remove(Kind::Port, "p3");
        st.put(Kind::Port, port("p4", "vm2"));
        assert_eq!(ids(st.by(Kind::Port, "device_id", "vm1")), ["p1"]);
        assert_eq!(ids(st.by(Kind::Port, "device_id", "vm2")), ["p2", "p4"]);
        st.clear_dirty();
        assert_eq!(ids(st.by(Kind::Port, "device_id", "vm1")), ["p1"]);
        assert_eq!(ids(st.by(Kind::Port, "device_id", "vm2")), ["p2", "p4"]);

        // An undone write leaves the index as it was.
        st.get_mut(Kind::Port, "p1")
            .unwrap()
            .insert("device_id".into(), json!("vm3"));
        st.remove(Kind::Port, "p4");
        assert_eq!(ids(st.by(Kind::Port, "device_id", "vm3")), ["p1"]);
        st.rollback();
        assert!(st.by(Kind::Port, "device_id", "vm3").is_empty());
        assert_eq!(ids(st.by(Kind::Port, "device_id", "vm1")), ["p1"]);
        assert_eq!(ids(st.by(Kind::Port, "device_id", "vm2")), ["p2", "p4"]);
        // A port without the key is indexed under "" like a scan finds it.
        st.put(Kind::Port, obj("p5", "bare"));
        st.clear_dirty();
        assert_eq!(ids(st.by(Kind::Port, "device_id", "")), ["p5"]);
    }

    #[test]
    fn fixed_ips_and_macs_are_found_through_the_index() {
        let Value::Object(p) = json!({"id": "p1", "network_id": "n", "mac_address": "fa:16:3e:00:00:01",
            "fixed_ips": [{"subnet_id": "s", "ip_address": "10.0.0.5"},
                          {"subnet_id": "s6", "ip_address": "2001:db8::0005"}]})
        else {
            unreachable!()
        };
        let mut st = State::default();
        st.put(Kind::Port, p);
        st.clear_dirty();
        let v4 = fixed_ip_key("s", 0x0a00_0005);
        let v6 = fixed_ip_key("s6", 0x2001_0db8_0000_0000_0000_0000_0000_0005);
        assert!(st.any_by(Kind::Port, FIXED_IP, &v4, |_| true));
        assert!(st.any_by(Kind::Port, FIXED_IP, &v6, |_| true));
        assert!(!st.any_by(Kind::Port, FIXED_IP, &v4, |p| str_of(p, "id") != "p1"));
        assert!(st.any_by(Kind::Port, "mac_address", "fa:16:3e:00:00:01", |_| true));

        // Moving the port's address frees the old one at once and after keeping.
        st.get_mut(Kind::Port, "p1").unwrap()["fixed_ips"] =
            json!([{"subnet_id": "s", "ip_address": "10.0.0.6"}]);
        let moved = fixed_ip_key("s", 0x0a00_0006);
        assert!(!st.any_by(Kind::Port, FIXED_IP, &v4, |_| true));
        assert!(st.any_by(Kind::Port, FIXED_IP, &moved, |_| true));
        st.clear_dirty();
        assert!(!st.any_by(Kind::Port, FIXED_IP, &v4, |_| true));
        assert!(!st.any_by(Kind::Port, FIXED_IP, &v6, |_| true));
        assert_eq!(ids(st.by(Kind::Port, FIXED_IP, &moved)), ["p1"]);
        st.remove(Kind::Port, "p1");
        st.clear_dirty();
        assert!(!st.any_by(Kind::Port, FIXED_IP, &moved, |_| true));
        assert!(!st.any_by(Kind::Port, "mac_address", "fa:16:3e:00:00:01", |_| true));
    }

    #[test]
    fn kept_changes_survive_a_later_rollback() {
        let mut st = State::default();
        st.put(Kind::Port, obj("p", "kept"));
        st.clear_dirty();
        st.rollback();
        assert_eq!(str_of(st.get(Kind::Port, "p").unwrap(), "name"), "kept");
    }
}
