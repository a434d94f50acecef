//! The `carlo` binary: the application of the library with the built-in models.

fn main() -> std::process::ExitCode {
    carlo::app::main(carlo::model::Registry::builtin())
}
