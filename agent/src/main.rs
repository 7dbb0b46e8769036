//! `corral-agent`: runs on the phone. Enrollment, the mutual-TLS session and profile
//! enforcement arrive with issue 4; until then it only reports its version.
#![forbid(unsafe_code)]

fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("--version") | Some("version") => println!("corral-agent {}", env!("CARGO_PKG_VERSION")),
        _ => {
            eprintln!("corral-agent {}: usage: corral-agent --version", env!("CARGO_PKG_VERSION"));
            std::process::exit(2);
        }
    }
}
