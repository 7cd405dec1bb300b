//! `airlock`: the command-line way in. It parses arguments, reads input and
//! prints results; every decision is the `gate` crate's.

mod alerts;
mod check;
mod cli;
mod config;
mod journal;
mod ledger_cmd;
mod run;
mod setup;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Parsers recurse; give them a deep stack rather than trusting input depth
    // checks alone (a stack overflow aborts, it does not fail closed cleanly).
    let worker = std::thread::Builder::new()
        .name("airlock".into())
        .stack_size(256 << 20)
        .spawn(|| {
            let args = cli::Cli::parse();
            cli::run(args)
        });
    match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            // Fail closed: whoever reads only `decision` sees a refusal.
            println!("{{\"decision\":\"deny\",\"error\":\"internal error\"}}");
            eprintln!("airlock: internal error");
            ExitCode::from(cli::EXIT_INTERNAL)
        }
    }
}
