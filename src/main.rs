use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = llmscope::cli::Cli::parse();
    match llmscope::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("llmscope: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
