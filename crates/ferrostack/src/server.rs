//! `serve`: bind, open the database, migrate, bootstrap, write the user
//! files, then answer until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Router};
use ferro_api::{Prefix, PublicBase, TokenValidator};
use ferro_identity::{Bootstrap, Identity, IdentityConfig};
use ferro_store::Db;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::{files, CommonArgs, ServeArgs};

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let cfg = Config::from_serve(&args)?;
    init_logging(&cfg.log);
    std::fs::create_dir_all(&cfg.data_dir)
        .with_context(|| format!("creating data dir {}", cfg.data_dir.display()))?;
    let listener = TcpListener::bind(&cfg.listen)
        .await
        .with_context(|| format!("binding {}", cfg.listen))?;
    let bound = listener.local_addr()?;
    let public_url = cfg
        .public_url
        .clone()
        .unwrap_or_else(|| default_public_url(bound));
    let public_url = public_url.trim_end_matches('/').to_owned();

    let db = Db::connect(&cfg.database_url())
        .await
        .context("opening the database")?;
    let services = Services::open(&cfg, &db).await?;
    let identity = services.identity.clone();
    let (password, generated) = match &cfg.admin_password {
        Some(p) => (p.clone(), false),
        None => files::stored_admin_password(&cfg.data_dir)?,
    };
    let admin = identity
        .bootstrap(&Bootstrap {
            admin_password: password.clone(),
            public_url: public_url.clone(),
            region: cfg.region.clone(),
        })
        .await
        .map_err(|e| anyhow::anyhow!("bootstrap failed: {e}"))?;
    {
        let identity = identity.clone();
        let password = password.clone();
        tokio::spawn(async move {
            if let Err(e) = identity.ensure_admin_password(&admin, &password).await {
                tracing::error!(error = %e, "could not apply the configured admin password");
            }
        });
    }

    let auth_url = format!("{public_url}/identity");
    write_user_files(&cfg.data_dir, &auth_url, &password, &cfg.region)?;
    let mut app = app(&cfg, &services, db.clone());
    if cfg.public_url.is_some() {
        app = app.layer(Extension(PublicBase(public_url.clone())));
    }
    let mut servers = tokio::task::JoinSet::new();
    if cfg.classic_ports {
        for (port, router) in classic_routers(&cfg, &services) {
            let l = TcpListener::bind((bound.ip(), port))
                .await
                .with_context(|| format!("binding classic port {port}"))?;
            servers.spawn(run(l, router));
        }
    }
    files::write_private(
        &cfg.data_dir.join("listen-address"),
        &format!("{bound}\n"),
        0o644,
    )?;
    print_banner(&public_url, &cfg.data_dir, &password, generated, started);
    println!("  compute:      {}", services.compute_summary);
    println!("  network:      data plane {}", services.dataplane_summary);
    servers.spawn(run(listener, app));
    while let Some(res) = servers.join_next().await {
        res??;
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn run(listener: TcpListener, app: Router) -> anyhow::Result<()> {
    let app = tower::ServiceExt::<axum::extract::Request>::map_request(
        app,
        ferro_api::request_id::strip_trailing_slash,
    );
    axum::serve(listener, axum::ServiceExt::into_make_service(app))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("serving HTTP")
}

fn identity_config(cfg: &Config) -> anyhow::Result<IdentityConfig> {
    let mut ic = IdentityConfig::new(cfg.data_dir.join("fernet-keys"));
    ic.token_expiration = cfg.identity.token_expiration;
    ic.password_hash_rounds = cfg.identity.password_hash_rounds;
    ic.max_active_keys = cfg.identity.max_active_keys;
    let sc = &cfg.identity.security_compliance;
    let rules = &mut ic.security_compliance;
    rules.lockout_failure_attempts = sc.lockout_failure_attempts;
    rules.lockout_duration = sc.lockout_duration;
    rules.unique_last_password_count = sc.unique_last_password_count;
    rules.minimum_password_age = sc.minimum_password_age;
    rules.password_regex_description = sc.password_regex_description.clone();
    rules.password_expires_days = sc.password_expires_days;
    rules.change_password_upon_first_use = sc.change_password_upon_first_use;
    rules.disable_user_account_days_inactive = sc.disable_user_account_days_inactive;
    if let Some(re) = &sc.password_regex {
        rules
            .set_password_regex(re)
            .with_context(|| format!("identity.security_compliance.password_regex {re:?}"))?;
    }
    Ok(ic)
}

fn default_public_url(bound: SocketAddr) -> String {
    let host = if bound.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else if bound.is_ipv6() {
        format!("[{}]", bound.ip())
    } else {
        bound.ip().to_string()
    };
    format!("http://{host}:{}", bound.port())
}

/// The address compute shows as its hypervisor's `host_ip`: the listen
/// address, or loopback when listening on every address.
fn host_ip(listen: &str) -> String {
    match listen.parse::<SocketAddr>() {
        Ok(a) if !a.ip().is_unspecified() => a.ip().to_string(),
        _ => "127.0.0.1".to_owned(),
    }
}

/// Every service, opened on one database.
struct Services {
    identity: Identity,
    image: ferro_image::ImageService,
    network: ferro_network::NetworkService,
    volume: ferro_volume::VolumeService,
    compute: ferro_compute::ComputeService,
    /// Which compute driver runs, and why (for the banner).
    compute_summary: String,
    /// Whether the network data plane runs, and why.
    dataplane_summary: String,
    /// The assembled application, for calls between services (set by `app`).
    loopback: ferro_api::loopback::Loopback,
}

fn compute_config(cfg: &Config) -> ferro_compute::Config {
    let c = &cfg.compute;
    let mut out = ferro_compute::Config::new(c.host.clone(), host_ip(&cfg.listen));
    out.shutdown_timeout_s = c.shutdown_timeout;
    out.force_config_drive = c.force_config_drive;
    out.cpu_allocation_ratio = c.cpu_allocation_ratio;
    out.ram_allocation_ratio = c.ram_allocation_ratio;
    out.disk_allocation_ratio = c.disk_allocation_ratio;
    out.dhcp_domain = c.dhcp_domain.clone();
    out
}

impl Services {
    async fn open(cfg: &Config, db: &Db) -> anyhow::Result<Services> {
        for migrations in [
            ferro_identity::MIGRATIONS,
            ferro_image::MIGRATIONS,
            ferro_network::MIGRATIONS,
            ferro_volume::MIGRATIONS,
            ferro_compute::MIGRATIONS,
        ] {
            ferro_store::migrate(db, migrations).await?;
        }
        let identity = Identity::new(db.clone(), identity_config(cfg)?)?;
        let validator: Arc<dyn TokenValidator> = Arc::new(identity.clone());
        let dir = |name: &str| cfg.data_dir.join(name);
        let image = ferro_image::ImageService::new(
            db.clone(),
            validator.clone(),
            ferro_image::Config {
                data_dir: dir("images"),
                import_allowed_ports: cfg.image.import_allowed_ports.clone(),
                require_image_format_match: cfg.image.require_image_format_match,
            },
        );
        let network = ferro_network::NetworkService::new(
            db.clone(),
            validator.clone(),
            ferro_network::Config {
                data_dir: dir("networks"),
                host: cfg.compute.host.clone(),
            },
        );
        let volume = ferro_volume::VolumeService::new(
            db.clone(),
            validator.clone(),
            ferro_volume::Config::new(dir("volumes")),
            Some(image.api()),
        );
        network.recover().await?;
        let mut dataplane = crate::dataplane::choose(
            &cfg.network.dataplane,
            &cfg.data_dir,
            cfg.compute.driver == "fake",
            &cfg.network.bridge_mappings,
        )
        .await?;
        let driver = crate::compute_driver::choose(
            &cfg.compute,
            &cfg.data_dir,
            dataplane.guest_namespace.clone(),
        )
        .await?;
        let loopback = ferro_api::loopback::Loopback::new();
        let peers = ferro_compute::Peers {
            image: image.api(),
            network: Arc::new(network.clone()),
            volume: Arc::new(volume.clone()),
            rest: loopback.clone(),
        };
        let compute = ferro_compute::ComputeService::new(
            db.clone(),
            validator,
            peers,
            compute_config(cfg),
            driver.driver.clone(),
        );
        image.recover().await?;
        volume.recover().await?;
        compute.recover().await?;
        dataplane.run(&cfg.compute.host, &network, &compute)?;
        compute.start_worker();
        Ok(Services {
            identity,
            image,
            network,
            volume,
            compute,
            compute_summary: driver.summary,
            dataplane_summary: dataplane.summary,
            loopback,
        })
    }

    /// (path prefix, router) for each service; network answers on two.
    fn mounts(&self, on_prefix: bool) -> Vec<(&'static str, Router)> {
        let tag =
            |r: Router, p: &'static str| r.layer(Extension(Prefix(if on_prefix { p } else { "" })));
        vec![
            ("/identity", tag(self.identity.router(), "/identity")),
            ("/image", tag(self.image.router(), "/image")),
            ("/networking", tag(self.network.router(), "/networking")),
            ("/network", tag(self.network.router(), "/network")),
            ("/volume", tag(self.volume.router(), "/volume")),
            ("/compute", tag(self.compute.router(), "/compute")),
        ]
    }
}

/// Body limit and request ids, around any router.
fn common_layers(cfg: &Config, r: Router) -> Router {
    r.layer(DefaultBodyLimit::max(cfg.max_body_bytes))
        .layer(Extension(ferro_api::BodyLimit(cfg.max_body_bytes)))
        .layer(axum::middleware::from_fn(ferro_api::request_id::request_id))
        .layer(axum::middleware::from_fn(
            ferro_api::connection::close_if_body_unread,
        ))
}

/// The single-port application: every service under its path prefix.
fn app(cfg: &Config, services: &Services, db: Db) -> Router {
    let health = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(db);
    let mut app = Router::new().merge(health);
    for (prefix, router) in services.mounts(true) {
        app = app.nest(prefix, router);
    }
    let app = common_layers(cfg, app);
    services.loopback.set(app.clone());
    app
}

/// Each API at the root of its classic port.
fn classic_routers(cfg: &Config, services: &Services) -> Vec<(u16, Router)> {
    let p = &cfg.ports;
    let ports = [
        ("/identity", p.identity),
        ("/image", p.image),
        ("/networking", p.network),
        ("/volume", p.block_storage),
        ("/compute", p.compute),
    ];
    services
        .mounts(false)
        .into_iter()
        .filter_map(|(prefix, router)| {
            let port = ports.iter().find(|(x, _)| *x == prefix)?.1;
            Some((port, common_layers(cfg, router)))
        })
        .collect()
}

async fn readyz(State(db): State<Db>) -> impl IntoResponse {
    if db.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

fn write_user_files(
    dir: &Path,
    auth_url: &str,
    password: &str,
    region: &str,
) -> anyhow::Result<()> {
    files::write_private(
        &dir.join("clouds.yaml"),
        &files::clouds_yaml(auth_url, password, region),
        0o600,
    )?;
    files::write_private(
        &dir.join("openrc"),
        &files::openrc(auth_url, password, region),
        0o600,
    )
}

fn print_banner(url: &str, dir: &Path, password: &str, generated: bool, started: Instant) {
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let clouds = dir.join("clouds.yaml");
    println!(
        "Ferrostack is up at {url} (started in {} ms)",
        started.elapsed().as_millis()
    );
    println!("  identity:     {url}/identity/v3");
    println!("  clouds.yaml:  {}", clouds.display());
    println!("  openrc:       {}", dir.join("openrc").display());
    if generated {
        println!(
            "  admin password (generated, stored in {}): {password}",
            dir.join("admin-password").display()
        );
    }
    println!("Try:");
    println!(
        "  OS_CLIENT_CONFIG_FILE={} OS_CLOUD=ferrostack openstack token issue",
        clouds.display()
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

fn init_logging(default: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

/// `rotate-keys`: Keystone's fernet rotation on the data dir's key repository.
pub fn rotate_keys(args: CommonArgs) -> anyhow::Result<()> {
    let cfg = Config::from_common(&args)?;
    let dir = cfg.data_dir.join("fernet-keys");
    ferro_identity::token::KeyRing::load_or_create(&dir)?;
    ferro_identity::token::rotate(&dir, cfg.identity.max_active_keys)?;
    println!("rotated the keys in {}", dir.display());
    Ok(())
}
