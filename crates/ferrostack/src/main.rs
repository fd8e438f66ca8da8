//! `ferrostack`: an OpenStack cloud in one binary.

mod compute_driver;
mod config;
mod dataplane;
mod files;
mod metadata;
mod server;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "ferrostack",
    version,
    about = "An OpenStack cloud in one binary"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the cloud: every API on one port (and the classic ports if asked).
    Serve(ServeArgs),
    /// Rotate the token signing keys in the data dir (like keystone-manage
    /// fernet_rotate); running servers pick the new keys up on restart.
    RotateKeys(CommonArgs),
}

#[derive(Args, Clone, Debug, Default)]
pub struct CommonArgs {
    /// TOML configuration file; flags and FERROSTACK_* variables override it.
    #[arg(long, env = "FERROSTACK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where state lives (database, keys, images, volumes). Default ./ferrostack-data
    #[arg(long, env = "FERROSTACK_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Args, Clone, Debug, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Address to listen on; port 0 picks a free port. Default 127.0.0.1:8080
    #[arg(long, env = "FERROSTACK_LISTEN")]
    pub listen: Option<String>,
    /// The URL clients reach this server at (catalog endpoints are built from it).
    #[arg(long, env = "FERROSTACK_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The admin user's password; generated and stored in the data dir if unset.
    #[arg(long, env = "FERROSTACK_ADMIN_PASSWORD")]
    pub admin_password: Option<String>,
    /// sqlite://PATH or postgres://USER@HOST/DB. Default: SQLite in the data dir.
    #[arg(long, env = "FERROSTACK_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Also serve each API at the root of its classic port (5000, 8774, 9696, 9292, 8776).
    #[arg(long, env = "FERROSTACK_CLASSIC_PORTS")]
    pub classic_ports: bool,
    /// What runs servers: auto (qemu when qemu-system-x86_64 is found), qemu or fake.
    #[arg(long, env = "FERROSTACK_COMPUTE_DRIVER")]
    pub compute_driver: Option<String>,
    /// QEMU's accelerator: auto (KVM only when a probe guest really runs), kvm or tcg.
    #[arg(long, env = "FERROSTACK_COMPUTE_ACCEL")]
    pub compute_accel: Option<String>,
    /// The network data plane: auto (on when running as root), on or off.
    #[arg(long, env = "FERROSTACK_NETWORK_DATAPLANE")]
    pub network_dataplane: Option<String>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferrostack: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => server::serve(args).await,
            Command::RotateKeys(args) => server::rotate_keys(args),
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrostack: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
