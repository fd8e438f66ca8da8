//! The metadata service at 169.254.169.254:80, served by this process
//! inside the data plane's namespaces (where Neutron runs a metadata proxy
//! in front of Nova's metadata API): one listener per namespace the
//! reconciler reports (`Observed::metadata_sites`), each made inside its
//! namespace by a thread of its own (`ferro_netplane::netns`). New sites
//! get a listener, gone ones lose it (with their connections), and a
//! namespace made again under the same name gets a new one. A site serves
//! at most `MAX_CONNECTIONS` at once, each for at most `CONNECTION_TIME`. A request's guest is the port with its source
//! address on the site's networks (the network service knows); its answer
//! is compute's.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use ferro_compute::metadata::MetadataRequest;
use ferro_compute::ComputeService;
use ferro_netplane::{netns, MetadataSite, METADATA_ADDRESS};
use ferro_network::NetworkService;
use tokio::task::JoinHandle;

/// Bodies beyond this are refused (a posted password is at most 1020).
const BODY_LIMIT: usize = 64 * 1024;

/// Connections one site serves at once; more are closed at once (guests
/// share the metadata service: one must not starve the others).
const MAX_CONNECTIONS: usize = 64;

/// How long a connection may last, requests and keep-alive included
/// (cloud-init asks a few small documents, then goes).
const CONNECTION_TIME: std::time::Duration = std::time::Duration::from_secs(30);

/// The listeners, by namespace.
pub struct Sites {
    compute: ComputeService,
    network: NetworkService,
    sites: HashMap<String, Site>,
}

struct Site {
    /// Which namespace the listener is in (`netns::id`).
    namespace_id: u64,
    networks: Arc<RwLock<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Drop for Site {
    fn drop(&mut self) {
        // The listener goes with the task.
        self.task.abort();
    }
}

#[derive(Clone)]
struct SiteState {
    compute: ComputeService,
    network: NetworkService,
    networks: Arc<RwLock<Vec<String>>>,
}

impl Sites {
    pub fn new(compute: ComputeService, network: NetworkService) -> Self {
        Sites {
            compute,
            network,
            sites: HashMap::new(),
        }
    }

    /// Listen where `wanted` says, and nowhere else.
    pub async fn update(&mut self, wanted: &[MetadataSite]) {
        self.sites.retain(|ns, _| {
            let keep = wanted.iter().any(|w| &w.namespace == ns);
            if !keep {
                tracing::info!(namespace = %ns, "metadata service: stopped listening there");
            }
            keep
        });
        for w in wanted {
            let now = netns::id(&w.namespace).ok();
            if let Some(site) = self.sites.get(&w.namespace) {
                if now == Some(site.namespace_id) && !site.task.is_finished() {
                    if let Ok(mut n) = site.networks.write() {
                        n.clone_from(&w.network_ids);
                    }
                    continue;
                }
            }
            if self.sites.remove(&w.namespace).is_some() {
                tracing::info!(namespace = %w.namespace, "metadata service: the namespace was made anew");
            }
            match self.listen(w).await {
                Ok(site) => {
                    self.sites.insert(w.namespace.clone(), site);
                }
                Err(e) => tracing::warn!(
                    namespace = %w.namespace, error = %e,
                    "cannot serve the metadata service there (will retry)"
                ),
            }
        }
    }

    async fn listen(&self, w: &MetadataSite) -> std::io::Result<Site> {
        let addr = SocketAddr::from((METADATA_ADDRESS, 80));
        let ns = w.namespace.clone();
        let (listener, namespace_id) =
            tokio::task::spawn_blocking(move || netns::listen(&ns, addr))
                .await
                .map_err(std::io::Error::other)??;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let networks = Arc::new(RwLock::new(w.network_ids.clone()));
        let state = SiteState {
            compute: self.compute.clone(),
            network: self.network.clone(),
            networks: networks.clone(),
        };
        let app = Router::new()
            .fallback(answer)
            .layer(DefaultBodyLimit::max(BODY_LIMIT))
            .with_state(state);
        let ns = w.namespace.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = serve(listener, app).await {
                tracing::warn!(namespace = %ns, error = %e, "metadata listener stopped");
            }
        });
        tracing::info!(namespace = %w.namespace, "metadata service listening on {addr}");
        Ok(Site {
            namespace_id,
            networks,
            task,
        })
    }
}

/// Accept and serve connections (HTTP/1) until the listener fails or the
/// site goes: the connections are this task's, so aborting it (the site's
/// namespace is gone) ends them too.
async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = accepted?;
                let Ok(slot) = slots.clone().try_acquire_owned() else {
                    tracing::warn!(%peer, "metadata service: too many connections, one refused");
                    continue;
                };
                let svc = app.clone().layer(axum::Extension(ConnectInfo(peer)));
                let svc = hyper_util::service::TowerToHyperService::new(svc);
                connections.spawn(async move {
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
                    let _ = tokio::time::timeout(CONNECTION_TIME, conn).await;
                    drop(slot);
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn answer(
    State(s): State<SiteState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let address = peer.ip().to_canonical().to_string();
    let networks = s.networks.read().map(|n| n.clone()).unwrap_or_default();
    let requester = match s.network.metadata_requester(&networks, &address).await {
        Ok(r) => r.map(|r| (r.device_id, r.project_id)),
        Err(e) => {
            tracing::warn!(error = ?e, "metadata: cannot read the network state");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "An unknown error has occurred. Please try your request again.",
            )
                .into_response();
        }
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    s.compute
        .metadata_response(MetadataRequest {
            requester,
            address,
            method,
            path: uri.path().to_owned(),
            accept,
            body,
        })
        .await
}
