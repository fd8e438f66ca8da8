#!/usr/bin/env python3
"""Create a tempest workspace and a tempest.conf for a running ferrostack.

Usage (from the repo root, with the project venv):

    .venv/bin/python tests/tempest/gen_conf.py \
        --url http://127.0.0.1:PORT --admin-password PW --workspace /tmp/ws

It runs ``tempest init WORKSPACE`` (registering the workspace in a private
workspace.yaml inside the workspace's parent, not in ~/.tempest) and then
overwrites ``WORKSPACE/etc/tempest.conf``.

Only identity is configured for now.  Every other service is switched off in
``[service_available]``; the places to fill in when a service is implemented
are marked ``SERVICE HOOK``.  See /tmp/research/tempest-identity.md (copied
into the repo by the lead engineer if wanted) for why each option is set.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
VENV_BIN = Path(os.environ.get("FERROSTACK_VENV_BIN", REPO / ".venv" / "bin"))

# Identity API extensions tempest should consider enabled (ListOpt
# [identity-feature-enabled] api_extensions): tempest's default, "all".
# Two tempest.api.identity classes look at it: OS-INHERIT (InheritsV3TestJSON)
# and OS-EC2 (EC2CredentialsTest); both are built, as are OS-TRUST,
# OS-OAUTH1 consumers and the other v3 extensions tempest exercises.
DEFAULT_IDENTITY_EXTENSIONS = ["all"]

# [identity-feature-enabled] booleans.  False = the gated tests are skipped.
IDENTITY_FEATURES = {
    "api_v2": False,
    "api_v3": True,
    "trust": True,                  # OS-TRUST (TrustsV3TestJSON)
    "security_compliance": False,   # tempest's default; test_tempest_identity.py turns it on with the server's
    "access_rules": True,           # app-cred access rules (/v3/users/{id}/access_rules)
    "immutable_user_source": False,
    "domain_specific_drivers": False,
}

# SERVICE HOOK: flip these to True as ferrostack grows the service, and add
# the service's own section in `service_sections()` below.
SERVICES_AVAILABLE = {
    "nova": False,
    "neutron": False,
    "glance": True,    # image service (see IMAGE_FEATURES)
    "cinder": True,   # volume service (see VOLUME_SECTIONS)
    "swift": False,
    "horizon": False,
}


# --- NETWORK (neutron) section: owned by the network service ---------------
# Exactly the aliases GET /v2.0/extensions lists (tests/blackbox/test_network_api.py
# checks the two stay equal).
NETWORK_EXTENSIONS = [
    "allowed-address-pairs", "auto-allocated-topology", "availability_zone", "binding",
    "external-net", "ext-gw-mode", "extra_dhcp_opt", "extraroute", "ip-substring-filtering",
    "net-mtu",
    "net-mtu-writable", "network_availability_zone", "pagination", "port-security",
    "project-id", "provider", "quotas", "quota_details", "router", "security-group",
    "service-type", "sorting", "standard-attr-description", "standard-attr-revisions",
    "standard-attr-tag", "standard-attr-timestamp", "stateful-security-group", "tag",
    "subnet_allocation", "default-subnetpools", "address-scope", "subnetpool-prefix-ops",
]

# [network-feature-enabled] flags, set to what ferrostack really does.
NETWORK_FEATURES = {
    "ipv6": True,                    # IPv6 subnets and addresses
    "ipv6_subnet_attributes": True,  # ipv6_ra_mode / ipv6_address_mode (SLAAC = EUI-64)
    "port_admin_state_change": True,
    "port_security": True,
    "floating_ips": True,
    "api_extensions": NETWORK_EXTENSIONS,
}


def network_sections(public_network_id="", floating_network_name=""):
    """Sections for tempest.api.network: neutron on, the external network the
    caller created, the project cidrs tempest carves subnets from."""
    return {
        "service_available": {"neutron": True},
        "network": {
            "catalog_type": "network",
            "public_network_id": public_network_id,
            "floating_network_name": floating_network_name,
            "project_network_cidr": "10.100.0.0/16",
            "project_network_mask_bits": 28,
            "project_network_v6_cidr": "2001:db8::/48",
            "project_network_v6_mask_bits": 64,
            "project_networks_reachable": False,
            "shared_physical_network": False,
            "build_timeout": 60,
        },
        "network-feature-enabled": dict(NETWORK_FEATURES),
    }


def identity_uri(url, identity_path="/identity"):
    return url.rstrip("/") + identity_path + "/v3"


def detect_region(url, admin_password, identity_path="/identity", timeout=10):
    """Return the region of the public identity endpoint in the admin token's
    catalog, or None if it cannot be determined (server not up, no catalog)."""
    body = {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": admin_password}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
    req = urllib.request.Request(
        identity_uri(url, identity_path) + "/auth/tokens",
        data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            token = json.load(resp).get("token", {})
    except (urllib.error.URLError, OSError, ValueError):
        return None
    for svc in token.get("catalog") or []:
        if svc.get("type") != "identity":
            continue
        eps = svc.get("endpoints") or []
        for ep in eps:
            if ep.get("interface") == "public" and (ep.get("region") or ep.get("region_id")):
                return ep.get("region") or ep.get("region_id")
        for ep in eps:
            if ep.get("region") or ep.get("region_id"):
                return ep.get("region") or ep.get("region_id")
    return None


def _ini_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    # oslo.config expands $name references; a literal $ must be written $$
    return "" if v is None else str(v).replace("$", "$$")


# --- image (Glance v2) ---------------------------------------------------
# [image-feature-enabled] set to what ferrostack's image service really does.
IMAGE_FEATURES = {
    "api_v2": True,
    "import_image": True,            # stage + import (glance-direct, web-download, copy-image)
    "os_glance_reserved": True,      # os_glance_* properties are refused (403)
    "manage_locations": False,       # no image locations API / http store
    "image_conversion": False,       # no format conversion on import
    # Data must match its disk_format. On in ferrostack when its config says
    # [image] require_image_format_match = true, which test_tempest_image.py sets.
    "image_format_enforcement": True,
    "do_secure_hash": True,          # md5 + sha512 computed while uploading
    "http_store_enabled": False,
    "store_weight_enabled": False,
}


def image_sections(region):
    """The image service's tempest settings (owned by the image service)."""
    return {
        "service_available": {"glance": True},
        "image": {
            "region": region,
            "hashing_algorithm": "sha512",
            "build_timeout": 60,
        },
        "image-feature-enabled": dict(IMAGE_FEATURES),
    }


# --- volume (block storage): owned by the volume service -------------------
# Flags are honest: what the server implements is on, everything else off.
VOLUME_SECTIONS = {
    "volume": {
        "catalog_type": "block-storage",
        "endpoint_type": "publicURL",
        "min_microversion": "3.0",
        "max_microversion": "latest",
        "build_timeout": 60,
        "build_interval": 1,
        "volume_size": 1,
        "storage_protocol": "qcow2",
        "vendor_name": "Ferrostack",
    },
    "volume-feature-enabled": {
        # tempest's defaults, except the flags that need what one host
        # with one backend cannot offer (reason beside each)
        "backup": True,
        "snapshot": True,
        "clone": True,
        "multi_backend": False,          # one backend (ferrostack@qcow2)
        "manage_snapshot": False,        # nothing unmanaged exists on the backend
        "manage_volume": False,          # nothing unmanaged exists on the backend
        "replication": False,            # no replication target
        "extend_attached_volume": False,           # tempest's default
        "extend_attached_encrypted_volume": False,  # tempest's default; no key manager
        "extend_volume_with_snapshot": True,
        "enable_volume_image_dep_tests": True,
        "api_extensions": ["all"],
    },
}


def volume_sections(region):
    """[volume] and [volume-feature-enabled] for ferrostack's block storage."""
    out = {k: dict(v) for k, v in VOLUME_SECTIONS.items()}
    out["volume"]["region"] = region
    return out


# --- COMPUTE (nova v2.1, fake driver): owned by the compute service --------
# [compute-feature-enabled] set to what crates/compute really implements.
COMPUTE_FEATURES = {
    "disk_config": True,             # OS-DCF:diskConfig stored and returned
    "hostname_fqdn_sanitization": False,
    "change_password": False,        # changePassword action not built
    "console_output": True,          # os-getConsoleOutput (fake log)
    "resize": True,                  # resize + confirmResize/revertResize
    "pause": True,
    "shelve": True,                  # offloaded at once (shelved_offload_time 0)
    "shelve_migrate": False,
    "suspend": True,
    "cold_migration": False,         # OFF: needs a second compute host (README)
    "live_migration": False,         # OFF: needs a second compute host (README)
    "live_migrate_back_and_forth": False,
    "metadata_service": True,        # 169.254.169.254 (with the data plane; gated tests need validation)
    "block_migration_for_live_migration": False,
    "can_migrate_between_any_hosts": False,  # OFF: needs a second compute host (README)
    "vnc_console": False,
    "spice_console": False,
    "serial_console": False,
    "rescue": True,
    "stable_rescue": True,           # hw_rescue_bus/hw_rescue_device; volume-backed from 2.87
    "enable_instance_password": True,  # adminPass returned on create/rebuild
    "interface_attach": True,        # os-interface attach/detach
    "snapshot": True,                # createImage
    "personality": False,            # injected files not supported
    "attach_encrypted_volume": False,  # OFF: encrypted volumes need a key manager (Barbican), not offered (README)
    "config_drive": True,            # the QEMU driver builds one; the gated tests need validation
    "swap_volume": False,             # built (PUT os-volume_attachments, admin), but tempest's swap classes need a "service" role bootstrap does not make yet
    "volume_backed_live_migration": False,
    "volume_multiattach": True,       # multiattach volume types (2.60)
    "ide_bus": True,                 # rescue disks on the IDE bus (hw_rescue_bus=ide)
    "unified_limits": False,
}


def compute_sections(image_ref, image_ref_alt, flavor_ref="42", flavor_ref_alt="84",
                     fixed_network_name="", public_network_id="", floating_network_name=""):
    """Sections for tempest.api.compute: nova (+ the services it calls) on, the
    image/flavors/network the caller prepared, microversion 2.1 only."""
    return {
        "service_available": {"nova": True, "neutron": True, "glance": True, "cinder": True},
        "compute": {
            "catalog_type": "compute",
            "endpoint_type": "publicURL",
            "image_ref": image_ref,
            "image_ref_alt": image_ref_alt,
            "flavor_ref": flavor_ref,
            "flavor_ref_alt": flavor_ref_alt,
            "fixed_network_name": fixed_network_name,
            "min_microversion": "2.1",
            "max_microversion": "latest",
            "build_timeout": 60,
            "build_interval": 1,  # IntOpt: 0.5 would be rejected by oslo.config
            "min_compute_nodes": 1,
        },
        "compute-feature-enabled": dict(COMPUTE_FEATURES),
        "network": {
            "public_network_id": public_network_id,
            "floating_network_name": floating_network_name,
        },
    }


def service_sections(url, region):
    """SERVICE HOOK: per-service sections (compute, network, image, volume...).

    Return a dict {section: {option: value}}.  Empty until the services exist;
    e.g. for nova later:
        {"compute": {"image_ref": ..., "flavor_ref": ..., "region": region},
         "compute-feature-enabled": {...}}
    """
    sections = {}
    for part in (image_sections(region), volume_sections(region)):
        for name, opts in part.items():
            sections.setdefault(name, {}).update(opts)
    return sections


def build_conf(url, admin_password, workspace, region="RegionOne",
               extensions=None, identity_path="/identity", extra_sections=None):
    workspace = Path(workspace).resolve()
    ext = DEFAULT_IDENTITY_EXTENSIONS if extensions is None else list(extensions)
    sections = {
        "DEFAULT": {
            "log_dir": str(workspace / "logs"),
            "log_file": "tempest.log",
            "debug": True,
        },
        "oslo_concurrency": {"lock_path": str(workspace / "tempest_lock")},
        "auth": {
            "use_dynamic_credentials": True,
            "admin_username": "admin",
            "admin_password": admin_password,
            "admin_project_name": "admin",
            "admin_domain_name": "Default",
            "admin_user_domain_name": "Default",
            "admin_project_domain_name": "Default",
            "default_credentials_domain_name": "Default",
            "create_isolated_networks": False,
            "tempest_roles": "",
        },
        "identity": {
            "uri_v3": identity_uri(url, identity_path),
            "auth_version": "v3",
            "region": region,
            "v3_endpoint_type": "public",
            "admin_role": "admin",
            "default_domain_id": "default",
            "admin_domain_scope": False,
            "use_system_token": False,
        },
        "identity-feature-enabled": dict(IDENTITY_FEATURES, api_extensions=ext),
        "service_available": dict(SERVICES_AVAILABLE),
        "validation": {"run_validation": False},
        "service-clients": {"http_timeout": 60},
    }
    for name, opts in service_sections(url, region).items():
        sections.setdefault(name, {}).update(opts)
    for name, opts in (extra_sections or {}).items():
        sections.setdefault(name, {}).update(opts)
    lines = ["# Generated by tests/tempest/gen_conf.py -- do not edit by hand.", ""]
    for name, opts in sections.items():
        lines.append(f"[{name}]")
        for k, v in opts.items():
            lines.append(f"{k} = {_ini_value(v)}")
        lines.append("")
    return "\n".join(lines)


def tempest_init(workspace, force=False):
    """Run `tempest init` into an empty/new directory; registry file kept local."""
    workspace = Path(workspace).resolve()
    if workspace.exists() and any(workspace.iterdir()):
        if not force:
            raise SystemExit(f"workspace {workspace} exists and is not empty (use --force)")
        shutil.rmtree(workspace)
    workspace.parent.mkdir(parents=True, exist_ok=True)
    registry = workspace.parent / (workspace.name + "-workspace.yaml")
    cmd = [str(VENV_BIN / "tempest"), "init", "--workspace-path", str(registry),
           "--name", workspace.name, str(workspace)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=str(workspace.parent))
    if r.returncode != 0 or not (workspace / ".stestr.conf").exists():
        raise RuntimeError(f"tempest init failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return workspace


def generate(url, admin_password, workspace, region=None, extensions=None,
             identity_path="/identity", force=False, detect=True, extra_sections=None):
    """Create the workspace and write etc/tempest.conf. Returns the conf path."""
    ws = tempest_init(workspace, force=force)
    if region is None and detect:
        region = detect_region(url, admin_password, identity_path)
    region = region or "RegionOne"
    conf = ws / "etc" / "tempest.conf"
    conf.parent.mkdir(exist_ok=True)
    conf.write_text(build_conf(url, admin_password, ws, region=region,
                               extensions=extensions, identity_path=identity_path,
                               extra_sections=extra_sections))
    return conf


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", required=True, help="ferrostack base URL, e.g. http://127.0.0.1:5000")
    p.add_argument("--admin-password", required=True)
    p.add_argument("--workspace", required=True, help="directory to create (must be new or empty)")
    p.add_argument("--region", default=None,
                   help="identity region (default: read from the catalog, else RegionOne)")
    p.add_argument("--extensions", default=",".join(DEFAULT_IDENTITY_EXTENSIONS),
                   help="comma list for [identity-feature-enabled] api_extensions ('' = none, 'all')")
    p.add_argument("--identity-path", default="/identity")
    p.add_argument("--no-detect", action="store_true", help="don't contact the server")
    p.add_argument("--force", action="store_true", help="wipe an existing workspace dir")
    a = p.parse_args(argv)
    ext = [e.strip() for e in a.extensions.split(",") if e.strip()]
    conf = generate(a.url, a.admin_password, a.workspace, region=a.region, extensions=ext,
                    identity_path=a.identity_path, force=a.force, detect=not a.no_detect)
    print(conf)
    return 0


if __name__ == "__main__":
    sys.exit(main())
