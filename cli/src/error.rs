//! How the command line fails: one line on standard error and an [`Exit`].

use std::fmt;

use crate::exit::Exit;

/// A failure of the command line (the library's own errors are `defender_tvm::Error`, inside).
#[derive(Debug)]
pub enum CliError {
    /// Usage or configuration.
    Usage(String),
    /// The library failed.
    Api(defender_tvm::Error),
    /// Reading or writing a file, or starting the demo tenant.
    Io(String),
    /// Ctrl-C.
    Interrupted,
}

impl CliError {
    /// How the process exits.
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Usage(_) | CliError::Api(defender_tvm::Error::InvalidInput(_)) => Exit::Usage,
            CliError::Api(_) | CliError::Io(_) => Exit::Failed,
            CliError::Interrupted => Exit::Interrupted,
        }
    }
}

impl From<defender_tvm::Error> for CliError {
    fn from(error: defender_tvm::Error) -> Self {
        CliError::Api(error)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(message) | CliError::Io(message) => f.write_str(message),
            CliError::Api(error) => write!(f, "{error}"),
            CliError::Interrupted => f.write_str("interrupted"),
        }
    }
}
