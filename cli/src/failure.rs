//! How the command line fails: one line on standard error and an exit code.

use std::fmt;

/// A failure of the command line.
#[derive(Debug)]
pub enum Failure {
    /// Usage or configuration (exit 2).
    Usage(String),
    /// The library failed (exit 1; 2 for input it refused).
    Api(defender_tvm::Error),
    /// Reading or writing a file, or starting the demo tenant (exit 1).
    Io(String),
    /// Ctrl-C (exit 130).
    Interrupted,
}

impl Failure {
    /// The exit code.
    pub fn code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Api(defender_tvm::Error::InvalidInput(_)) => 2,
            Failure::Api(_) | Failure::Io(_) => 1,
            Failure::Interrupted => 130,
        }
    }
}

impl From<defender_tvm::Error> for Failure {
    fn from(error: defender_tvm::Error) -> Self {
        Failure::Api(error)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(message) | Failure::Io(message) => f.write_str(message),
            Failure::Api(error) => write!(f, "{error}"),
            Failure::Interrupted => f.write_str("interrupted"),
        }
    }
}
