//! The `taonet` command line: see `taonet --help` and the README.

/// mimalloc: the simulator allocates and frees small event buffers and
/// B-tree nodes on every block; glibc's malloc spent ≈ 15 % of a simulated
/// block on it, mimalloc a third of that (docs/decisions/0012).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    taonet::main_entry()
}
