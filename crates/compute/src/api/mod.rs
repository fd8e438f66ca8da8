//! The compute HTTP API. Resources answer under `/v2.1`, and under the
//! legacy `/v2.1/{project_id}` and `/v2/{project_id}` forms.

mod actions;
mod aggregates;
mod assisted_volume_snapshots;
mod common;
mod extensions;
mod extra_spec_rules;
mod flavor_extras;
mod flavors;
mod hosts;
mod hypervisors;
mod instance_actions;
mod keypairs;
mod listing;
mod migrations;
mod misc;
mod proxy;
mod quota_classes;
mod quota_sets;
mod server_create;
mod server_diagnostics;
mod server_external_events;
mod server_fields;
mod server_groups;
pub(crate) mod server_images;
mod server_interfaces;
mod server_moves;
mod server_parts;
mod server_password;
mod server_query;
mod server_rescue;
pub(crate) mod server_security_groups;
mod server_shelve;
mod server_tags;
mod server_view;
mod server_volumes;
mod servers;
mod services;
mod tenant_usage;
mod usage_audit_log;
mod versions;
mod x509;

use axum::routing::{delete, get, post, put};
use axum::Router;

use crate::error::NovaFormat;
use crate::ComputeService;

pub fn router(svc: ComputeService) -> Router {
    let resources = resource_routes();
    Router::new()
        .route("/", get(versions::list))
        .route("/v2.1", get(versions::v21))
        .route("/v2", get(versions::v2))
        .nest("/v2.1", resources.clone())
        .nest("/v2.1/{project_id}", resources.clone())
        .nest("/v2/{project_id}", resources)
        .fallback(misc::not_found)
        .layer(axum::middleware::map_response(|r| {
            ferro_api::error::format_router_errors(NovaFormat, r)
        }))
        .layer(axum::middleware::from_fn(crate::microversion::negotiate))
        .layer(axum::middleware::from_fn(
            instance_actions::compute_request_id,
        ))
        .with_state(svc)
}

fn resource_routes() -> Router<ComputeService> {
    Router::new()
        .route("/flavors", get(flavors::list).post(flavors::create))
        .route("/flavors/detail", get(flavors::detail))
        .route(
            "/flavors/{flavor_id}",
            get(flavors::show)
                .delete(flavors::delete)
                .put(flavors::update),
        )
        .route(
            "/flavors/{flavor_id}/os-extra_specs",
            get(flavor_extras::list_specs).post(flavor_extras::add_specs),
        )
        .route(
            "/flavors/{flavor_id}/os-extra_specs/{key}",
            get(flavor_extras::show_spec)
                .put(flavor_extras::put_spec)
                .delete(flavor_extras::delete_spec),
        )
        .route(
            "/flavors/{flavor_id}/os-flavor-access",
            get(flavor_extras::list_access),
        )
        .route("/flavors/{flavor_id}/action", post(flavor_extras::action))
        .route("/os-keypairs", get(keypairs::list).post(keypairs::create))
        .route(
            "/os-keypairs/{name}",
            get(keypairs::show).delete(keypairs::delete),
        )
        .route("/servers", get(servers::list).post(servers::create))
        .route("/servers/detail", get(servers::detail))
        .route(
            "/servers/{server_id}",
            get(servers::show)
                .put(servers::update)
                .delete(servers::delete),
        )
        .route("/servers/{server_id}/action", post(actions::action))
        .route(
            "/servers/{server_id}/metadata",
            get(server_parts::list_meta)
                .post(server_parts::merge_meta)
                .put(server_parts::replace_meta),
        )
        .route(
            "/servers/{server_id}/metadata/{key}",
            get(server_parts::show_meta)
                .put(server_parts::put_meta)
                .delete(server_parts::delete_meta),
        )
        .route(
            "/servers/{server_id}/tags",
            get(server_tags::list_tags)
                .put(server_tags::replace_tags)
                .delete(server_tags::delete_tags),
        )
        .route(
            "/servers/{server_id}/tags/{tag}",
            get(server_tags::check_tag)
                .put(server_tags::add_tag)
                .delete(server_tags::delete_tag),
        )
        .route(
            "/servers/{server_id}/migrations",
            get(server_moves::list_server_migrations),
        )
        .route(
            "/servers/{server_id}/migrations/{migration_id}",
            get(server_moves::show_server_migration),
        )
        .route(
            "/servers/{server_id}/topology",
            get(server_moves::show_topology),
        )
        .route(
            "/servers/{server_id}/remote-consoles",
            post(server_moves::create_remote_console),
        )
        .route("/servers/{server_id}/ips", get(server_parts::ips))
        .route(
            "/servers/{server_id}/ips/{network}",
            get(server_parts::ips_of_network),
        )
        .route(
            "/servers/{server_id}/os-volume_attachments",
            get(server_volumes::list_attachments).post(server_volumes::attach_volume),
        )
        .route(
            "/servers/{server_id}/os-volume_attachments/{volume_id}",
            get(server_volumes::show_attachment)
                .put(server_volumes::update_attachment)
                .delete(server_volumes::detach_volume),
        )
        .route(
            "/servers/{server_id}/os-interface",
            get(server_interfaces::list_interfaces).post(server_interfaces::attach_interface),
        )
        .route(
            "/servers/{server_id}/os-interface/{port_id}",
            get(server_interfaces::show_interface).delete(server_interfaces::detach_interface),
        )
        .route(
            "/servers/{server_id}/os-security-groups",
            get(server_security_groups::list_server_groups),
        )
        .route(
            "/servers/{server_id}/os-server-password",
            get(server_password::show_password).delete(server_password::clear_password),
        )
        .route(
            "/os-server-groups",
            get(server_groups::list_groups).post(server_groups::create_group),
        )
        .route(
            "/os-server-groups/{group_id}",
            get(server_groups::show_group).delete(server_groups::delete_group),
        )
        .route(
            "/servers/{server_id}/os-instance-actions",
            get(instance_actions::list_actions),
        )
        .route(
            "/servers/{server_id}/os-instance-actions/{request_id}",
            get(instance_actions::show_action),
        )
        .route("/limits", get(misc::limits))
        .route("/os-availability-zone", get(misc::availability_zones))
        .route(
            "/os-availability-zone/detail",
            get(misc::availability_zones_detail),
        )
        .route(
            "/images",
            get(misc::images).delete(misc::image_delete_blank),
        )
        .route("/images/detail", get(misc::images_detail))
        .route(
            "/images/{image_id}",
            get(misc::image_show).delete(misc::image_delete),
        )
        .route(
            "/os-quota-sets/{project_id}",
            get(quota_sets::show_quota_set)
                .put(quota_sets::update_quota_set)
                .delete(quota_sets::delete_quota_set),
        )
        .route(
            "/os-quota-sets/{project_id}/defaults",
            get(quota_sets::show_defaults),
        )
        .route(
            "/os-quota-sets/{project_id}/detail",
            get(quota_sets::show_quota_detail),
        )
        .route(
            "/os-quota-class-sets/{class}",
            get(quota_classes::show_quota_class_set).put(quota_classes::update_quota_class_set),
        )
        .route("/extensions", get(extensions::list))
        .route(
            "/os-assisted-volume-snapshots",
            post(assisted_volume_snapshots::create),
        )
        .route(
            "/os-assisted-volume-snapshots/{id}",
            delete(assisted_volume_snapshots::delete),
        )
        .route(
            "/os-server-external-events",
            post(server_external_events::create),
        )
        .route(
            "/servers/{server_id}/diagnostics",
            get(server_diagnostics::show),
        )
        .route("/extensions/{alias}", get(extensions::show))
        .route(
            "/os-security-groups",
            get(proxy::security_groups::list)
                .post(proxy::security_groups::create)
                .delete(proxy::security_groups::delete_blank),
        )
        .route(
            "/os-security-groups/{id}",
            get(proxy::security_groups::show)
                .put(proxy::security_groups::update)
                .delete(proxy::security_groups::delete),
        )
        .route(
            "/os-security-group-rules",
            post(proxy::security_groups::create_rule),
        )
        .route(
            "/os-security-group-rules/{id}",
            delete(proxy::security_groups::delete_rule),
        )
        .route(
            "/os-floating-ips",
            get(proxy::floating_ips::list).post(proxy::floating_ips::create),
        )
        .route(
            "/os-floating-ips/{id}",
            get(proxy::floating_ips::show).delete(proxy::floating_ips::delete),
        )
        .route(
            "/os-floating-ip-pools",
            get(proxy::floating_ips::list_pools),
        )
        .route(
            "/os-networks",
            get(proxy::networks::list).post(proxy::networks::gone),
        )
        .route("/os-networks/add", post(proxy::networks::gone))
        .route(
            "/os-networks/{id}",
            get(proxy::networks::show).delete(proxy::networks::gone),
        )
        .route("/os-networks/{id}/action", post(proxy::networks::gone))
        .route(
            "/os-tenant-networks",
            get(proxy::networks::list_tenant).post(proxy::networks::gone),
        )
        .route(
            "/os-tenant-networks/{id}",
            get(proxy::networks::show_tenant).delete(proxy::networks::gone),
        )
        .route(
            "/os-volumes",
            get(proxy::volumes::list_volumes)
                .post(proxy::volumes::create_volume)
                .delete(proxy::volumes::delete_blank),
        )
        .route("/os-volumes/detail", get(proxy::volumes::list_volumes))
        .route(
            "/os-volumes/{id}",
            get(proxy::volumes::show_volume).delete(proxy::volumes::delete_volume),
        )
        .route(
            "/os-snapshots",
            get(proxy::volumes::list_snapshots).post(proxy::volumes::create_snapshot),
        )
        .route("/os-snapshots/detail", get(proxy::volumes::list_snapshots))
        .route(
            "/os-snapshots/{id}",
            get(proxy::volumes::show_snapshot).delete(proxy::volumes::delete_snapshot),
        )
        .route(
            "/images/{image_id}/metadata",
            get(proxy::image_metadata::list)
                .post(proxy::image_metadata::update)
                .put(proxy::image_metadata::replace),
        )
        .route(
            "/images/{image_id}/metadata/{key}",
            get(proxy::image_metadata::show_item)
                .put(proxy::image_metadata::set_item)
                .delete(proxy::image_metadata::delete_item),
        )
        .route("/os-services", get(services::list_services))
        .route(
            "/os-services/{service}",
            put(services::update_service).delete(services::delete_service),
        )
        .route("/os-hypervisors", get(hypervisors::list_hypervisors))
        .route(
            "/os-hypervisors/detail",
            get(hypervisors::detail_hypervisors),
        )
        .route(
            "/os-hypervisors/statistics",
            get(hypervisors::hypervisor_statistics),
        )
        .route("/os-hypervisors/{id}", get(hypervisors::show_hypervisor))
        .route("/os-hypervisors/{id}/uptime", get(hypervisors::show_uptime))
        .route(
            "/os-hypervisors/{id}/search",
            get(hypervisors::search_hypervisors),
        )
        .route(
            "/os-hypervisors/{id}/servers",
            get(hypervisors::hypervisor_servers),
        )
        .route(
            "/os-aggregates",
            get(aggregates::list_aggregates).post(aggregates::create_aggregate),
        )
        .route(
            "/os-aggregates/{id}",
            get(aggregates::show_aggregate)
                .put(aggregates::update_aggregate)
                .delete(aggregates::delete_aggregate),
        )
        .route(
            "/os-aggregates/{id}/action",
            post(aggregates::aggregate_action),
        )
        .route("/os-aggregates/{id}/images", post(aggregates::cache_images))
        .route("/os-hosts", get(hosts::list_hosts))
        .route(
            "/os-hosts/{host}",
            get(hosts::show_host).put(hosts::update_host),
        )
        .route("/os-hosts/{host}/{action}", get(hosts::host_power_action))
        .route(
            "/os-instance_usage_audit_log",
            get(usage_audit_log::list_audit_logs),
        )
        .route(
            "/os-instance_usage_audit_log/{before}",
            get(usage_audit_log::show_audit_log),
        )
        .route("/os-migrations", get(migrations::list_migrations))
        .route("/os-simple-tenant-usage", get(tenant_usage::list_usages))
        .route(
            "/os-simple-tenant-usage/{tenant_id}",
            get(tenant_usage::show_usage),
        )
}
