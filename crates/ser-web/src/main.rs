//! `ser-web`: the HTTP server and page. Upload or record speech, see the emotion.
//!
//! ```text
//! ser-web --model runs/crnn/model --addr 127.0.0.1:8080
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use ser_models::analysis::AnalysisConfig;
use ser_models::artifact::find_model;
use ser_web::{AppState, ServerConfig};

/// Serve the speech-emotion page and JSON API (POST /api/predict, GET /api/model, GET /healthz).
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Args {
    /// Model directory (manifest.json + weights), as written by `ser-train`. Without it: the
    /// SER_MODEL environment variable, then ser/models/default under $XDG_DATA_HOME (or
    /// ~/.local/share), then ../share/ser/models/default and models/default next to this
    /// program, then the source tree's models/default.
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Address to listen on. Use 0.0.0.0:8080 to accept connections from other machines.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Largest accepted upload in MiB; bigger requests get HTTP 413.
    #[arg(long, default_value_t = 20.0, value_name = "MIB")]
    max_upload_mb: f64,
    /// Longest accepted clip in seconds; longer audio gets HTTP 413.
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    max_duration_secs: f64,
    /// Timeline window length in seconds (hop = half of it) for clips longer than
    /// --timeline-after-secs.
    #[arg(long, default_value_t = 3.0, value_name = "SECS")]
    segment_secs: f64,
    /// Clips longer than this get a timeline; shorter ones are classified whole.
    #[arg(long, default_value_t = 6.0, value_name = "SECS")]
    timeline_after_secs: f64,
    /// Inferences run at once [default: number of cores]. Further requests wait their turn.
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Most connections served at once; further connections wait (in the kernel's queue,
    /// costing no file descriptor) until one closes.
    #[arg(long, default_value_t = ServerConfig::default().max_connections, value_name = "N")]
    max_connections: usize,
    /// Seconds a client has to send a request's headers; slower clients are disconnected.
    #[arg(long, default_value_t = ServerConfig::default().header_read_timeout.as_secs_f64(), value_name = "SECS")]
    header_timeout_secs: f64,
    /// Seconds a client has to send a whole upload once its headers are in; slower uploads
    /// get HTTP 408. Raise it for big uploads over slow links.
    #[arg(long, default_value_t = ServerConfig::default().body_timeout.as_secs_f64(), value_name = "SECS")]
    body_timeout_secs: f64,
    /// Seconds a connection may stay open with no request and no traffic before it is closed.
    #[arg(long, default_value_t = ServerConfig::default().idle_timeout.as_secs_f64(), value_name = "SECS")]
    idle_timeout_secs: f64,
    /// On Ctrl-C or SIGTERM, seconds requests in flight get to finish; then the remaining
    /// connections are dropped and the server exits.
    #[arg(long, default_value_t = ServerConfig::default().shutdown_timeout.as_secs_f64(), value_name = "SECS")]
    shutdown_timeout_secs: f64,
}

/// `secs` as a duration, if it is a positive, finite number of seconds that fits one.
fn positive_secs(flag: &str, secs: f64) -> anyhow::Result<Duration> {
    if secs.is_nan() || secs <= 0.0 {
        anyhow::bail!("{flag} must be a positive number of seconds, got {secs}");
    }
    Duration::try_from_secs_f64(secs).with_context(|| format!("{flag} {secs} is out of range"))
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // symphonia logs a line per damaged MP3 frame (453 for one file, issue 25);
                // ser-audio counts them and the request logs the count once.
                .unwrap_or_else(|_| "info,tower_http=info,symphonia=error".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    if !(args.max_upload_mb > 0.0 && args.max_upload_mb.is_finite()) {
        anyhow::bail!(
            "--max-upload-mb must be a positive number, got {}",
            args.max_upload_mb
        );
    }
    if !(args.max_duration_secs > 0.0 && args.segment_secs > 0.0) {
        anyhow::bail!("--max-duration-secs and --segment-secs must be positive");
    }
    if args.max_connections == 0 {
        anyhow::bail!("--max-connections must be at least 1");
    }
    let header_read_timeout = positive_secs("--header-timeout-secs", args.header_timeout_secs)?;
    let body_timeout = positive_secs("--body-timeout-secs", args.body_timeout_secs)?;
    let idle_timeout = positive_secs("--idle-timeout-secs", args.idle_timeout_secs)?;
    let shutdown_timeout = positive_secs("--shutdown-timeout-secs", args.shutdown_timeout_secs)?;
    let dir = find_model(args.model.as_deref())?.dir;
    let model = ser_web::load_model(&dir)
        .with_context(|| format!("cannot load the model in {}", dir.display()))?;
    let defaults = ServerConfig::default();
    let config = ServerConfig {
        max_upload_bytes: (args.max_upload_mb * 1024.0 * 1024.0) as usize,
        analysis: AnalysisConfig {
            segment_secs: args.segment_secs,
            timeline_after_secs: args.timeline_after_secs,
            max_duration_secs: Some(args.max_duration_secs),
            ..AnalysisConfig::default()
        },
        workers: args.workers.unwrap_or(defaults.workers).max(1),
        max_connections: args.max_connections,
        header_read_timeout,
        body_timeout,
        idle_timeout,
        shutdown_timeout,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let served = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let addr = listener.local_addr().context("no local address")?;
        tracing::info!(
            model = %dir.display(),
            labels = model.labels().len(),
            workers = config.workers,
            max_upload_bytes = config.max_upload_bytes,
            max_connections = config.max_connections,
            "ser-web listening on http://{addr}"
        );
        ser_web::serve(listener, AppState::new(model, config))
            .await
            .context("server error")
    });
    // An inference abandoned at the shutdown deadline may still be running on a blocking
    // thread; dropping the runtime would wait for it, so let it go.
    runtime.shutdown_background();
    served?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
