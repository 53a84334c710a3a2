//! The tokio runtime that runs engine futures, and the wait loop that keeps Python
//! responsive to Ctrl-C while a query runs with the GIL released.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::{Builder, Runtime};

use crate::errors::{to_py_err, BillsheetError};

/// How often a waiting call re-acquires the GIL to let Python run its signal handlers.
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// How long a cancelled task may take to stop before the call returns anyway.
const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// The process's runtime, tagged with the process id that built it.
static RUNTIME: Mutex<Option<(u32, Arc<Runtime>)>> = Mutex::new(None);

/// Returns the runtime of this process, building it on first use.
fn runtime() -> PyResult<Arc<Runtime>> {
    let pid = std::process::id();
    let mut slot = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((owner, runtime)) = slot.as_ref() {
        if *owner == pid {
            return Ok(runtime.clone());
        }
    }
    // A process forked from one that used billsheet inherits the runtime but none of its
    // worker threads. Dropping it would try to shut down threads that do not exist in the
    // child, so it is leaked and the child builds its own.
    if let Some((_, inherited)) = slot.take() {
        std::mem::forget(inherited);
    }
    let runtime = Builder::new_multi_thread()
        .enable_all()
        .thread_name("billsheet-worker")
        .build()
        .map_err(|e| {
            BillsheetError::new_err(format!("failed to start the query runtime: {e}"))
        })?;
    let runtime = Arc::new(runtime);
    *slot = Some((pid, runtime.clone()));
    Ok(runtime)
}

/// Runs `future` on the runtime and waits for it with the GIL released.
///
/// Every `SIGNAL_CHECK_INTERVAL` the wait re-acquires the GIL and runs Python's signal
/// handlers. When one raises (Ctrl-C raises `KeyboardInterrupt`), the task is aborted and
/// that exception is returned. Python runs signal handlers only on the main thread, so a
/// call from another thread cannot be interrupted this way.
pub fn wait_for<F, T>(py: Python<'_>, future: F) -> PyResult<T>
where
    F: Future<Output = billsheet::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let runtime = runtime()?;
    let mut task = runtime.spawn(future);
    loop {
        let waited = py.allow_threads(|| {
            runtime.block_on(async {
                tokio::time::timeout(SIGNAL_CHECK_INTERVAL, &mut task).await
            })
        });
        match waited {
            Ok(Ok(Ok(value))) => return Ok(value),
            Ok(Ok(Err(error))) => return Err(to_py_err(py, error)),
            Ok(Err(join_error)) => {
                return Err(BillsheetError::new_err(format!(
                    "internal error: the engine task failed: {join_error}"
                )))
            }
            Err(_elapsed) => {
                if let Err(signal_error) = py.check_signals() {
                    task.abort();
                    // Waiting briefly lets the aborted task release its memory and files
                    // before Python continues.
                    py.allow_threads(|| {
                        runtime.block_on(async {
                            let _ = tokio::time::timeout(CANCEL_GRACE, &mut task).await;
                        })
                    });
                    return Err(signal_error);
                }
            }
        }
    }
}
