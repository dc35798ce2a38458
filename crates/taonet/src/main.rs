//! The `taonet` command line: see `taonet --help` and the README.
fn main() -> std::process::ExitCode {
    taonet::main_entry()
}
