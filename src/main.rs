fn main() -> std::process::ExitCode {
    vakhsh::cli::main()
}
