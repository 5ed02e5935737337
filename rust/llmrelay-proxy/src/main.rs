//! `llmrelay-proxy`: run the proxy from a LiteLLM config (`--config`) or for one model
//! (`--model`). Flags as LiteLLM's `litellm` command; `--help` lists them.

use std::io::Write;
use std::process::ExitCode;

use llmrelay_proxy::cli::{CliOptions, USAGE};
use llmrelay_proxy::init_logging;
use llmrelay_proxy::startup::{Callbacks, StartupError, run_command};

/// glibc's allocator serializes on arena locks under this many small, short-lived
/// allocations across threads; mimalloc's per-thread heaps do not.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Set once the config's `environment_variables` are in this process's environment.
const EXPORTED_MARKER: &str = "LLMRELAY_PROXY_ENV_EXPORTED";

fn fail(error: &StartupError) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "{error}");
    ExitCode::from(error.exit_code())
}

fn main() -> ExitCode {
    let options = match CliOptions::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => return fail(&StartupError::Usage(message)),
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
        Err(message) => return fail(&StartupError::Failed(message)),
    };
    if let Some(raw) = &raw {
        let variables = match raw.environment_variables() {
            Ok(variables) => variables,
            Err(error) => return fail(&StartupError::Failed(error.to_string())),
        };
        // `environment_variables` must be in the process environment (providers read their
        // keys from it). Changing the environment of a running process is unsound in Rust, so
        // re-execute this program once with the variables set.
        if !variables.is_empty() && std::env::var_os(EXPORTED_MARKER).is_none() {
            return reexec_with(&variables);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            return fail(&StartupError::Failed(format!(
                "cannot start the runtime: {error}"
            )));
        }
    };
    match run_command(&options, raw.as_ref(), Callbacks::Unavailable, &runtime) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

#[cfg(unix)]
fn reexec_with(variables: &[(String, String)]) -> ExitCode {
    use std::os::unix::process::CommandExt;
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(error) => {
            return fail(&StartupError::Failed(format!(
                "cannot find this program to export environment_variables: {error}"
            )));
        }
    };
    let error = std::process::Command::new(program)
        .args(std::env::args_os().skip(1))
        .envs(variables.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(EXPORTED_MARKER, "1")
        .exec();
    fail(&StartupError::Failed(format!(
        "cannot re-execute with environment_variables: {error}"
    )))
}

#[cfg(not(unix))]
fn reexec_with(variables: &[(String, String)]) -> ExitCode {
    let program = match std::env::current_exe() {
        Ok(program) => program,
        Err(error) => {
            return fail(&StartupError::Failed(format!(
                "cannot find this program: {error}"
            )));
        }
    };
    match std::process::Command::new(program)
        .args(std::env::args_os().skip(1))
        .envs(variables.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(EXPORTED_MARKER, "1")
        .status()
    {
        Ok(status) => ExitCode::from(u8::try_from(status.code().unwrap_or(1)).unwrap_or(1)),
        Err(_) => ExitCode::FAILURE,
    }
}
