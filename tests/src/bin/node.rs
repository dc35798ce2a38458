//! The taonet CLI, built inside the test crate so tests can spawn it.
fn main() -> std::process::ExitCode {
    taonet::main_entry()
}
