//! `llmrelay-proxy`: run the proxy from a LiteLLM config (`--config`) or for one model
//! (`--model`). Flags as LiteLLM's `litellm` command; `--help` lists them.

use std::io::Write;
use std::process::ExitCode;

use llmrelay_proxy::cli::{CliOptions, USAGE};
use llmrelay_proxy::{Proxy, init_logging, run};

/// glibc's allocator serializes on arena locks under this many small, short-lived
/// allocations across threads; mimalloc's per-thread heaps do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Set once the config's `environment_variables` are in this process's environment.
const EXPORTED_MARKER: &str = "LLMRELAY_PROXY_ENV_EXPORTED";

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "{message}");
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let options = match CliOptions::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => return fail(&message),
    };
    if options.help {
        let _ = write!(std::io::stdout(), "{USAGE}");
        return ExitCode::SUCCESS;
    }
    if options.version {
        let _ = writeln!(
            std::io::stdout(),
            "llmrelay-proxy {}",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    init_logging(options.debug, options.detailed_debug);
    let raw = match options.raw_config() {
        Ok(raw) => raw,
        Err(message) => return fail(&message),
    };
    if let Some(raw) = &raw {
        let variables = match raw.environment_variables() {
            Ok(variables) => variables,
            Err(error) => return fail(&error.to_string()),
        };
        // `environment_variables` must be in the process environment (providers read their
        // keys from it). Changing the environment of a running process is unsound in Rust, so
        // re-execute this program once with the variables set.
        if !variables.is_empty() && std::env::var_os(EXPORTED_MARKER).is_none() {
            return reexec_with(&variables);
        }
    }
    let config = match options.proxy_config(raw.as_ref()) {
        Ok(config) => config,
        Err(message) => return fail(&message),
    };
    for warning in &config.warnings {
        tracing::warn!("config: {warning}");
    }
    if options.validate_config {
        let _ = writeln!(
            std::io::stdout(),
            "config OK: {} deployments",
            config.model_list.len()
        );
        return ExitCode::SUCCESS;
    }
    if let Some(workers) = options.num_workers.filter(|n| *n > 1) {
        tracing::info!(
            "--num_workers {workers} accepted: one llmrelay process already uses every core"
        );
    }
    if !config.python_callbacks().is_empty() {
        return fail(
            "litellm_settings callbacks are Python objects: start the proxy with the `llmrelay` command (pip package) to load them",
        );
    }
    let serve = match options.serve_options() {
        Ok(serve) => serve,
        Err(message) => return fail(&message),
    };
    let proxy = match Proxy::from_config(&config, None) {
        Ok(proxy) => proxy,
        Err(message) => return fail(&message),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start the runtime: {error}")),
    };
    match runtime.block_on(run(proxy, &serve)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

#[cfg(unix)]
fn reexec_with(variables: &[(String, String)]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(error) => {
            return fail(&format!(
                "cannot find this program to export environment_variables: {error}"
            ));
        }
    };
    let error = std::process::Command::new(program)
        .args(std::env::args_os().skip(1))
        .envs(variables.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(EXPORTED_MARKER, "1")
        .exec();
    fail(&format!(
        "cannot re-execute with environment_variables: {error}"
    ))
}

#[cfg(not(unix))]
fn reexec_with(variables: &[(String, String)]) -> ExitCode {
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(error) => return fail(&format!("cannot find this program: {error}")),
    };
    match std::process::Command::new(program)
        .args(std::env::args_os().skip(1))
        .envs(variables.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(EXPORTED_MARKER, "1")
        .status()
    {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
