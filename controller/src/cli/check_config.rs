//! `corral check-config`: print the effective configuration (secrets redacted) or say
//! which key is wrong and exit 1.

use std::process::ExitCode;

use super::ConfigArgs;

/// Runs `corral check-config`.
pub fn run(args: ConfigArgs) -> ExitCode {
    match args.load(None) {
        Ok(config) => {
            print!("{config}");
            ExitCode::SUCCESS
        }
        Err(e) => super::fail(&e),
    }
}
