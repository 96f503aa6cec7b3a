//! Ctrl-C, SIGTERM and SIGHUP while the output folder is written.
//!
//! Once [`Interrupt::catch`] has run, the first such signal only sets a flag, which the writer
//! checks between its steps: before the swap it discards what it staged, during the swap it
//! rolls the swapped parts back, and either way the folder is as it was. A second signal of the
//! same kind ends the process at once; the next run then rolls back from the journal
//! (`output_dir/transaction.rs`).

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the user asked the run to stop.
#[derive(Clone, Debug, Default)]
pub struct Interrupt(Arc<AtomicBool>);

impl Interrupt {
    /// Catches SIGINT, SIGTERM and SIGHUP from now on (the first one sets the flag, a second one
    /// has its default effect). If the handlers cannot be installed, the signals keep their
    /// default effect, which the journal also covers.
    pub fn catch() -> Self {
        let flag = Arc::new(AtomicBool::new(false));
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            // The conditional default first: it acts only once the flag is set, so the first
            // signal sets the flag and the second one terminates.
            let _ = signal_hook::flag::register_conditional_default(signal, Arc::clone(&flag));
            let _ = signal_hook::flag::register(signal, Arc::clone(&flag));
        }
        Self(flag)
    }

    /// Whether a signal arrived.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Sets the flag, as a signal would (for tests).
    #[cfg(test)]
    pub fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}
