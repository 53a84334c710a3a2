//! Progress of `billsheet run` on standard error.
//!
//! A run computes the built-in views it needs, then writes the output files. The bar
//! counts both, and its message names the view being computed or the file being written,
//! so a long run shows where it is. It is drawn only when standard error is a terminal:
//! logs, pipes and tests see nothing of it.

use std::borrow::Cow;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar of the run in progress, to which cached views report. A process runs one
/// `billsheet run` at a time; a second concurrent run reports to the newer bar.
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// The progress bar of one run. Dropping it clears the bar.
pub struct RunProgress {
    bar: ProgressBar,
}

impl RunProgress {
    /// Starts a bar of `steps` steps on standard error, hidden unless it is a terminal.
    pub fn start(steps: u64) -> RunProgress {
        let bar =
            ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{elapsed_precise} [{bar:30}] {pos}/{len} {msg}",
        )
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        if !bar.is_hidden() {
            bar.enable_steady_tick(Duration::from_millis(250));
        }
        set_active(Some(bar.clone()));
        RunProgress { bar }
    }

    /// Shows what the run does now.
    pub fn message(&self, message: impl Into<Cow<'static, str>>) {
        self.bar.set_message(message);
    }

    /// Counts one step as done.
    pub fn step_done(&self) {
        self.bar.inc(1);
    }
}

impl Drop for RunProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
        set_active(None);
    }
}

fn set_active(bar: Option<ProgressBar>) {
    if let Ok(mut active) = ACTIVE.lock() {
        *active = bar;
    }
}

fn with_active(action: impl FnOnce(&ProgressBar)) {
    if let Ok(active) = ACTIVE.lock() {
        if let Some(bar) = active.as_ref() {
            action(bar);
        }
    }
}

/// Reports that the cached view `name` starts computing.
pub fn view_started(name: &str) {
    with_active(|bar| bar.set_message(format!("computing {name}")));
}

/// Reports that a cached view has been computed.
pub fn view_done() {
    with_active(|bar| bar.inc(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_bar_counts_views() {
        let progress = RunProgress::start(10);
        view_started("usage_daily");
        view_done();
        progress.step_done();
        assert_eq!(progress.bar.position(), 2);
        assert_eq!(progress.bar.message(), "computing usage_daily");
        let bar = progress.bar.clone();
        drop(progress);
        let finished = bar.position();
        view_done();
        assert_eq!(
            bar.position(),
            finished,
            "a finished run's bar counts no more views"
        );
    }
}
