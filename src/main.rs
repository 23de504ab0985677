use clap::Parser;

fn main() -> std::process::ExitCode {
    return_large_bodies_to_the_system();
    let cli = llmscope::cli::Cli::parse();
    match llmscope::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("llmscope: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc raises its mmap threshold each time a large block is freed, after which request
/// bodies of a few hundred KB come from the heap, and a burst of them leaves the heap
/// fragmented and resident long after the exchanges are written (100+ MiB after 1,000
/// back-to-back 200 KB requests). A fixed threshold keeps every body above it in its own
/// mapping, returned to the system when freed.
fn return_large_bodies_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const MMAP_THRESHOLD: libc::c_int = 128 * 1024;
        // SAFETY: mallopt only adjusts allocator tuning; it is called before any other thread
        // exists, and a refused setting (return value 0) leaves the defaults in place.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        }
    }
}
