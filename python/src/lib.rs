//! `carlo._carlo`: the Rust side of carlo's Python package.
//!
//! The pure-Python package `carlo` (in `carlo/`) is the API; this module does the
//! work: [`run`] validates a config with carlo's own config layer (keyword arguments
//! become `--set` assignments, so their errors are the file's), runs it on carlo's
//! engine with the GIL released, and returns the summary; [`Pool`] keeps executors
//! (worker processes, threads) warm between runs; [`verify`] checks a summary;
//! [`serve_worker`](worker::serve_worker) is the body of a Python worker process;
//! [`rng::Rng`] is a block's stream lent to Python.
//!
//! Every model of `carlo models` runs here, plus `python`, which calls a Python
//! function in this process ([`model`]). Worker processes are Python interpreters
//! running `carlo._worker`, which serve the same registry.

mod distributions;
mod errors;
mod model;
mod moments;
mod rng;
mod signals;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use carlo::backend::{Backend, WorkerCommand};
use carlo::checkpoint::{self, Checkpoint};
use carlo::config::{Assignment, Experiment, Overrides};
use carlo::engine::{self, Observer, Report, State};
use carlo::exec::{Executor, Processes, Threads};
use carlo::model::python::PythonParams;
use carlo::output::{self, Format, Value};
use carlo::{Error, divert_messages};
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyList, PyString, PyTuple};

use errors::Given;
use model::{Options, Source, Stash};

/// The path a config given as a dict is reported under.
const DICT_PATH: &str = "<dict>";

/// How often a run lets Python see it between chunks: Python's own signal handlers
/// (a caller's), carlo's messages and the workers' output, the progress display.
/// Often enough to feel immediate, rarely enough that taking the GIL costs nothing.
const PYTHON_EVERY: Duration = Duration::from_millis(50);

/// How often the progress display is updated.
const PROGRESS_EVERY: Duration = Duration::from_millis(200);

/// Lines carlo said during a run, waiting for Python to show them.
type Lines = Arc<Mutex<Vec<String>>>;

/// Hands queued lines to the Python callable `tick` (which shows carlo's messages as
/// warnings and the workers' output), also when there are none: it drains the
/// workers' output too.
fn deliver(py: Python<'_>, tick: Option<&Py<PyAny>>, lines: &Lines) -> PyResult<()> {
    let taken: Vec<String> = std::mem::take(&mut *lines.lock().unwrap_or_else(|e| e.into_inner()));
    match tick {
        Some(tick) => tick.bind(py).call1((taken,)).map(|_| ()),
        None => {
            for line in taken {
                say(py, &line)?;
            }
            Ok(())
        }
    }
}

/// The second computation of the first blocks, in this process, for a run whose
/// chunks run in worker processes: it catches a model that reads state that differs
/// between this process and its workers. It starts only once workers have computed
/// those blocks, so that a model that crashes its process (which the workers are there
/// to survive) has done so in a worker first; it runs on a thread of its own, beside
/// the run.
struct CrossCheck {
    job: carlo::config::Job,
    entry: String,
    function: Option<Arc<Py<PyAny>>>,
    retries: u32,
    /// The blocks computed again: `0..blocks`.
    blocks: u64,
    thread: Option<std::thread::JoinHandle<Result<Vec<u64>, String>>>,
    /// The workers' digests of the blocks, once all are known: each block's, or (a run
    /// of one block, whose digest the state keeps only as its group's) the group's.
    theirs: Option<Theirs>,
    /// Whether the comparison was made.
    done: bool,
}

/// What the workers' computation of the probe's blocks gave.
enum Theirs {
    Blocks(Vec<u64>),
    Group(u64),
}

impl CrossCheck {
    /// The check of `experiment`'s first `workers + 1` blocks (at most a digest
    /// group's, whose blocks' digests the run keeps) with `function` (or the job's own).
    fn new(
        experiment: &Experiment,
        function: Option<Arc<Py<PyAny>>>,
        retries: u32,
        workers: usize,
    ) -> Option<Self> {
        let params: PythonParams = serde_json::from_value(serde_json::Value::Object(
            experiment.job.model.params().clone(),
        ))
        .ok()?;
        let blocks = (workers as u64 + 1)
            .min(engine::DIGEST_GROUP)
            .min(experiment.job.blocks());
        Some(CrossCheck {
            job: experiment.job.clone(),
            entry: params.entry,
            function,
            retries,
            blocks,
            thread: None,
            theirs: None,
            done: false,
        })
    }

    /// Starts computing the blocks here once the workers' digests are all in `state`,
    /// or, once the run has finished short of them (a target met early), those of the
    /// blocks it ran.
    fn offer(&mut self, state: &State) {
        if self.theirs.is_some() {
            return;
        }
        let theirs: Vec<u64> = (0..self.blocks)
            .map_while(|b| state.block_digest(b))
            .collect();
        let all = theirs.len() as u64 == self.blocks;
        if all || (state.stop_reason().is_some() && !theirs.is_empty()) {
            self.blocks = theirs.len() as u64;
            self.start(Theirs::Blocks(theirs));
        }
    }

    /// At the end of a run of one block: its group digest `group`, the workers'.
    fn offer_group(&mut self, group: Option<u64>) {
        if let (None, Some(group), 1) = (&self.theirs, group, self.job.blocks()) {
            self.start(Theirs::Group(group));
        }
    }

    fn start(&mut self, theirs: Theirs) {
        self.theirs = Some(theirs);
        let job = self.job.clone();
        let function = self.function.clone();
        let (retries, blocks) = (self.retries, self.blocks);
        self.thread = std::thread::Builder::new()
            .name("carlo-probe".into())
            .spawn(move || {
                // The job's own model (a sweep's too), without a probe of its own.
                let options = Options {
                    probe: false,
                    retries,
                };
                let registry =
                    model::registry(Arc::new(Source::here(function, options)), Stash::default());
                let model = job.build_model(&registry).map_err(|e| e.to_string())?;
                let mut cursor = carlo::random::lanes::LaneCursor::new(job.seed);
                // The workers showed the blocks' output; this computation's is dropped.
                let mute = Python::attach(|py| {
                    py.import("carlo._worker")
                        .and_then(|m| m.call_method0("Mute"))
                        .map(Bound::unbind)
                        .ok()
                });
                let digests = carlo::exec::run_blocks(&job, model.as_ref(), 0..blocks, &mut cursor)
                    .map(|stats| stats.digests);
                if let Some(mute) = mute {
                    Python::attach(|py| {
                        let _ = mute.bind(py).call_method0("restore");
                    });
                }
                digests
            })
            .ok();
    }

    /// Ends the computation here if it still runs (the run stopped early): its model
    /// gets a `KeyboardInterrupt`, and its thread is joined, so that no thread of
    /// carlo's runs Python code while the interpreter finalizes.
    fn abandon(&mut self, py: Python<'_>) {
        if let Some(thread) = self.thread.take() {
            if !thread.is_finished() {
                signals::interrupt_models();
            }
            py.detach(|| {
                let _ = thread.join();
            });
        }
    }

    /// The error when this process's computation differs from the workers', once
    /// it is done (waiting for it when `wait`), with the chunk of the block it names.
    fn compare(&mut self, wait: bool) -> Option<(String, u64)> {
        if self.done {
            return None;
        }
        let theirs = self.theirs.as_ref()?;
        let finished = self.thread.as_ref().is_some_and(|t| t.is_finished());
        if !(finished || wait) {
            return None;
        }
        self.done = true;
        let ours = self
            .thread
            .take()?
            .join()
            .unwrap_or_else(|_| Err("it panicked".into()));
        let entry = &self.entry;
        let last = self.blocks - 1;
        let chunk = |b: u64| b / self.job.chunk_blocks();
        let differ = |b: u64, theirs: u64, ours: u64| {
            let message = format!(
                "determinism probe: block {b} computed in a worker process and again in \
                 this process gave different results (digests {theirs:016x} and \
                 {ours:016x}): {entry} reads state that differs between processes (a \
                 global set under `if __name__ == \"__main__\":` or changed after import, \
                 in its module or another, an environment variable, a file, the time) or \
                 draws random numbers from something other than its rng. carlo's rule: \
                 draw every random number from rng and compute a block from rng, n and \
                 its arguments alone; pass values in args= (probe=False turns this check \
                 off)"
            );
            (message, chunk(b))
        };
        match (ours, theirs) {
            (Err(e), _) => Some((
                format!(
                    "determinism probe: blocks 0 to {last} ran in worker processes, but \
                     failed when computed again in this process ({}): {entry} behaves \
                     differently here and in worker processes; it must compute a block from \
                     rng, n and its arguments alone (probe=False turns this check off)",
                    e.lines().next().unwrap_or("")
                ),
                0,
            )),
            (Ok(ours), Theirs::Blocks(theirs)) => (0..self.blocks)
                .zip(theirs.iter().zip(&ours))
                .find(|(_, (t, o))| t != o)
                .map(|(b, (&t, &o))| differ(b, t, o)),
            (Ok(ours), &Theirs::Group(group)) => {
                let mine = engine::group_digest(&ours);
                (mine != group).then(|| differ(0, group, mine))
            }
        }
    }
}

/// Binds the engine to Python: the progress display, the checkpoint file, signals,
/// carlo's messages, the workers' output and the determinism probe.
struct Steering {
    progress: Option<Py<PyAny>>,
    shown: Option<Instant>,
    checkpoint: Option<Checkpoint>,
    /// Whether this run's signal handlers are installed (else Python's run, between
    /// chunks, on the calling thread).
    handlers: bool,
    /// An exception to raise once the run has stopped (a caller's signal handler, a
    /// warning made an error, the probe).
    raised: Option<PyErr>,
    /// When Python last saw the run.
    looked: Instant,
    lines: Lines,
    tick: Option<Py<PyAny>>,
    cross: Option<CrossCheck>,
}

impl Steering {
    /// Lets Python see the run: its signal handlers, the messages, the output.
    fn look(&mut self) {
        if self.raised.is_some() {
            return;
        }
        self.looked = Instant::now();
        let handlers = self.handlers;
        let result = Python::attach(|py| {
            if !handlers {
                py.check_signals()?;
            }
            deliver(py, self.tick.as_ref(), &self.lines)
        });
        if let Err(e) = result {
            self.raised = Some(e);
        }
    }
}

impl Observer for Steering {
    fn progress(&mut self, p: &engine::Progress<'_>) {
        let Some(callback) = &self.progress else {
            return;
        };
        let due = self.shown.is_none_or(|t| t.elapsed() >= PROGRESS_EVERY)
            || p.samples_done == p.samples_total;
        if !due {
            return;
        }
        self.shown = Some(Instant::now());
        let e = p.estimate();
        let result = Python::attach(|py| {
            callback
                .bind(py)
                .call1((
                    p.samples_done,
                    p.samples_total,
                    p.quantity.name.as_ref(),
                    e.estimate,
                    e.std_error,
                ))
                .map(|_| ())
        });
        if let Err(e) = result {
            self.raised.get_or_insert(e);
        }
    }

    fn checkpoint(&mut self, state: &State, last: bool) -> Result<(), Error> {
        if let Some(cross) = &mut self.cross
            && self.raised.is_none()
        {
            cross.offer(state);
            if let Some((message, chunk)) = cross.compare(false) {
                self.raised = Some(errors::determinism(&message, chunk));
            }
        }
        match &mut self.checkpoint {
            Some(c) => c.offer(state, last).map(|_| ()),
            None => Ok(()),
        }
    }

    fn interrupted(&mut self) -> bool {
        if self.looked.elapsed() >= PYTHON_EVERY {
            self.look();
        }
        self.raised.is_some() || signals::count() > 0
    }
}

/// Warm executors kept between runs: worker processes that keep their interpreter
/// (and imported modules), or a thread pool.
#[pyclass(module = "carlo._carlo")]
struct Pool {
    executor: Mutex<Option<Warm>>,
    backend: Backend,
    workers: usize,
}

enum Warm {
    Processes(Box<Processes>),
    Threads(Threads),
}

#[pymethods]
impl Pool {
    /// A pool of `workers` (0: one per core) on `backend` (`processes` or `threads`);
    /// `worker` is the command line of a worker process.
    #[new]
    fn new(backend: &str, workers: usize, worker: Vec<String>) -> PyResult<Self> {
        let fail = |e: Error| PyValueError::new_err(e.to_string());
        let (backend, executor) = match backend {
            "processes" => {
                let (program, args) = worker
                    .split_first()
                    .ok_or_else(|| PyValueError::new_err("empty worker command"))?;
                let command = WorkerCommand {
                    program: program.into(),
                    args: args.iter().map(Into::into).collect(),
                };
                let p = Processes::with_command(command, workers).map_err(fail)?;
                (Backend::Processes, Warm::Processes(Box::new(p)))
            }
            "threads" => (
                Backend::Threads,
                Warm::Threads(Threads::new(workers).map_err(fail)?),
            ),
            other => {
                return Err(PyValueError::new_err(format!(
                    "backend={other:?}: a Pool runs \"processes\" or \"threads\""
                )));
            }
        };
        let workers = match &executor {
            Warm::Processes(p) => p.workers(),
            Warm::Threads(t) => t.workers(),
        };
        Ok(Pool {
            executor: Mutex::new(Some(executor)),
            backend,
            workers,
        })
    }

    /// The backend's name.
    #[getter]
    fn backend(&self) -> &'static str {
        self.backend.name()
    }

    /// The number of workers.
    #[getter]
    fn workers(&self) -> usize {
        self.workers
    }

    /// Process ids of the live worker processes (none for threads, or before the
    /// first run).
    fn pids(&self) -> Vec<u32> {
        match self.executor.lock().ok().as_deref() {
            Some(Some(Warm::Processes(p))) => p.pids(),
            _ => Vec::new(),
        }
    }

    /// Stops the workers; the pool cannot run again.
    fn close(&self, py: Python<'_>) {
        py.detach(|| {
            if let Ok(mut e) = self.executor.lock() {
                e.take();
            }
        });
    }

    /// Whether the pool was closed.
    #[getter]
    fn closed(&self) -> bool {
        self.executor.lock().map_or(true, |e| e.is_none())
    }
}

/// Runs a config and returns its summary as a dict of `columns`, `rows` (typed
/// values), the `csv`, `json` and `table` renderings, the `job` (as JSON and as a
/// config) and the chunk `digests` file.
///
/// `config` is a path, or a dict of the TOML's tables. `sets` are `(dotted key,
/// shown as, value)`: each becomes a `--set` assignment. `function` is the callable
/// of a `python` model given as an object (`run_model`). `worker` is the command line
/// of a Python worker process. `signals` are the signals whose handlers the run
/// takes over (those with Python's defaults). `progress(done, total, quantity,
/// estimate, std_error)` is called as chunks merge; `tick(lines)` between chunks,
/// with carlo's messages since the last call.
#[pyfunction]
#[pyo3(signature = (config, sets, worker, signals, function=None, checkpoint=None, checkpoint_interval=None, seed=None, progress=None, tick=None, quiet=false, probe=true, retries=0, pool=None))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    config: &Bound<'_, PyAny>,
    sets: Vec<(String, String, Bound<'_, PyAny>)>,
    worker: Vec<String>,
    signals: Vec<i32>,
    function: Option<Py<PyAny>>,
    checkpoint: Option<PathBuf>,
    checkpoint_interval: Option<f64>,
    seed: Option<u64>,
    progress: Option<Py<PyAny>>,
    tick: Option<Py<PyAny>>,
    quiet: bool,
    probe: bool,
    retries: u32,
    pool: Option<PyRef<'_, Pool>>,
) -> PyResult<Py<PyAny>> {
    let mut given = Vec::new();
    for (key, shown, value) in &sets {
        let text = toml_value(value)
            .map_err(|e| PyErr::from_type(e.get_type(py), format!("{shown}: {}", e.value(py))))?
            .to_string();
        let set = Assignment::parse(&format!("{key}={text}"))
            .map_err(|e| PyValueError::new_err(format!("{shown}: {e}")))?;
        given.push(Given {
            set,
            shown: format!("{shown}={}", value.repr()?),
        });
    }
    let overrides = Overrides {
        seed,
        sets: given.iter().map(|g| g.set.clone()).collect(),
        ..Overrides::default()
    };
    let stash: Stash = Arc::default();
    let function = function.map(Arc::new);
    let options = Options { probe, retries };
    let source = Arc::new(Source::here(function.clone(), options));
    let registry = model::registry(Arc::clone(&source), Arc::clone(&stash));
    let fail = |e: Error| errors::to_py(py, e, &given);
    let mut experiment = match config.cast::<PyDict>() {
        Ok(dict) => {
            let text = toml::to_string(&toml_table(dict)?)
                .map_err(|e| PyValueError::new_err(format!("config: {e}")))?;
            let mut e = Experiment::parse(&text, Path::new(DICT_PATH), &overrides, &registry)
                .map_err(fail)?;
            if e.name == DICT_PATH {
                e.name = e.job.model.kind().to_string();
            }
            e
        }
        Err(_) => {
            let path: PathBuf = config.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "config must be a path or a dict of the config's tables, found {}",
                    config
                        .get_type()
                        .name()
                        .map_or("?".into(), |n| n.to_string())
                ))
            })?;
            Experiment::load(&path, &overrides, &registry).map_err(fail)?
        }
    };
    let (program, args) = worker
        .split_first()
        .ok_or_else(|| PyValueError::new_err("empty worker command"))?;
    experiment.worker_command = Some(WorkerCommand {
        program: program.into(),
        args: args.iter().map(Into::into).collect(),
    });
    let lines: Lines = Arc::default();
    if !quiet {
        for note in &experiment.notes {
            say(py, &format!("note: {note}"))?;
        }
    }
    // Warnings are shown even when quiet, as by the command line.
    {
        let mut queued = lines.lock().unwrap_or_else(|e| e.into_inner());
        queued.extend(experiment.warnings.iter().map(|w| format!("warning: {w}")));
    }
    deliver(py, tick.as_ref(), &lines)?;
    let dim = experiment.model.dim();
    let interval = match checkpoint_interval {
        None => checkpoint::DEFAULT_INTERVAL,
        Some(s) if (0.0..1e9).contains(&s) => Duration::from_secs_f64(s),
        Some(s) => {
            return Err(errors::config_error(
                py,
                &format!("checkpoint_interval={s}: must be a number of seconds, at least 0"),
            ));
        }
    };
    let (saver, state) = match &checkpoint {
        Some(path) => {
            let (c, state) =
                Checkpoint::open(path, &experiment.job, dim, interval).map_err(fail)?;
            (Some(c), state)
        }
        None => (None, State::new(dim)),
    };
    let in_workers = pool
        .as_ref()
        .map_or(experiment.backend == Backend::Processes, |p| {
            p.backend == Backend::Processes
        });
    let cross = (probe && in_workers && experiment.job.model.kind() == "python")
        .then(|| {
            let workers = pool.as_ref().map_or(experiment.workers, |p| p.workers);
            CrossCheck::new(&experiment, function.clone(), retries, workers)
        })
        .flatten();
    let mut steering = Steering {
        progress,
        shown: None,
        checkpoint: saver,
        handlers: !signals.is_empty(),
        raised: None,
        looked: Instant::now(),
        lines: Arc::clone(&lines),
        tick: tick.as_ref().map(|t| t.clone_ref(py)),
        cross,
    };
    let handlers = signals::Handlers::install(&signals)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot handle signals: {e}")))?;
    let flush_lines = Arc::clone(&lines);
    let flush_tick = tick.as_ref().map(|t| t.clone_ref(py));
    let watcher = signals::Watcher::start(Arc::new(Mutex::new(move |py: Python<'_>| {
        let _ = deliver(py, flush_tick.as_ref(), &flush_lines);
    })));
    let sink = Arc::clone(&lines);
    let pool: Option<&Pool> = pool.as_deref();
    let result = py.detach(|| {
        divert_messages(
            move |line| {
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(line.to_string())
            },
            || match pool {
                Some(pool) => run_in_pool(pool, &experiment, state, &mut steering),
                None => engine::resume(&experiment, state, &mut steering),
            },
        )
    });
    // The watcher may be waiting for the GIL to show messages: it is joined without.
    py.detach(|| drop(watcher));
    drop(handlers);
    let stopped_by = signals::first();
    let stashed = stash.lock().unwrap_or_else(|e| e.into_inner()).take();
    // Messages and output of the last chunks.
    if let Err(e) = deliver(py, tick.as_ref(), &lines) {
        steering.raised.get_or_insert(e);
    }
    match result {
        Ok(report) => {
            if let Some(cross) = &mut steering.cross
                && steering.raised.is_none()
            {
                cross.offer_group(report.digests.first().copied());
                if let Some((message, chunk)) = py.detach(|| cross.compare(true)) {
                    steering.raised = Some(errors::determinism(&message, chunk));
                }
            }
            if let Some(raised) = steering.raised.take() {
                return Err(raised);
            }
            {
                let mut queued = lines.lock().unwrap_or_else(|e| e.into_inner());
                queued.extend(
                    report
                        .warnings()
                        .into_iter()
                        .map(|w| format!("warning: {w}")),
                );
            }
            deliver(py, tick.as_ref(), &lines)?;
            summary(py, &report)
        }
        Err(error) => {
            if let Some(cross) = &mut steering.cross {
                cross.abandon(py);
            }
            let hint = match &checkpoint {
                Some(path) => format!(
                    "progress saved to {}; the same call again resumes it",
                    path.display()
                ),
                None => "nothing saved (with checkpoint=PATH a run can be resumed)".to_string(),
            };
            // The second signal interrupted the model's own code: say what happened
            // rather than show the model's frame.
            if signals::count() >= 2
                && steering.raised.is_none()
                && stashed
                    .as_ref()
                    .is_some_and(|e| e.is_instance_of::<PyKeyboardInterrupt>(py))
            {
                let e = PyKeyboardInterrupt::new_err(format!(
                    "interrupted again: stopped at once, interrupting the model; {hint}"
                ));
                e.set_cause(py, stashed);
                return Err(e);
            }
            if let Some(raised) = steering.raised.take().or(stashed) {
                return Err(raised);
            }
            match error {
                Error::Interrupted { done, total } => {
                    let again = if signals::count() >= 2 {
                        "interrupted again: stopped at once; "
                    } else {
                        ""
                    };
                    match stopped_by {
                        Some((signal, name)) if signal != libc::SIGINT => Err(errors::terminated(
                            py,
                            &format!(
                                "{again}interrupted by {name} after {done} of {total} blocks; {hint}"
                            ),
                            signal,
                        )),
                        _ => Err(PyKeyboardInterrupt::new_err(format!(
                            "{again}interrupted after {done} of {total} blocks; {hint}"
                        ))),
                    }
                }
                other => Err(fail(other)),
            }
        }
    }
}

/// Runs `experiment` on the warm executor of `pool`.
fn run_in_pool(
    pool: &Pool,
    experiment: &Experiment,
    state: State,
    steering: &mut Steering,
) -> Result<Report, Error> {
    let mut slot = pool.executor.lock().unwrap_or_else(|e| e.into_inner());
    let executor = slot
        .take()
        .ok_or_else(|| Error::Execution("this carlo.Pool was closed".into()))?;
    let mut executor = match executor {
        Warm::Processes(p) => Warm::Processes(Box::new(p.chunk_timeout(experiment.chunk_timeout))),
        Warm::Threads(t) => Warm::Threads(t.chunk_timeout(experiment.chunk_timeout)),
    };
    let running: &mut dyn Executor = match &mut executor {
        Warm::Processes(p) => p.as_mut(),
        Warm::Threads(t) => t,
    };
    let result = engine::resume_on(
        &experiment.name,
        &experiment.job,
        experiment.model.as_ref(),
        running,
        state,
        steering,
    );
    *slot = Some(executor);
    result
}

/// Writes a line to Python's `sys.stderr` (which a notebook shows).
fn say(py: Python<'_>, line: &str) -> PyResult<()> {
    let stderr = py.import("sys")?.getattr("stderr")?;
    if !stderr.is_none() {
        stderr.call_method1("write", (format!("{line}\n"),))?;
        stderr.call_method0("flush")?;
    }
    Ok(())
}

/// The summary of `report`, as `run` returns it.
fn summary(py: Python<'_>, report: &Report) -> PyResult<Py<PyAny>> {
    let sheet = output::summary(report);
    let rows = PyList::empty(py);
    for row in &sheet.rows {
        let values = PyList::empty(py);
        for value in row {
            match value {
                Value::Float(f) => values.append(*f)?,
                Value::Int(i) => values.append(*i)?,
                Value::Text(s) => values.append(s)?,
                Value::Empty => values.append(py.None())?,
            }
        }
        rows.append(values)?;
    }
    let text = |format| String::from_utf8_lossy(&output::render(&sheet, format)).into_owned();
    let out = PyDict::new(py);
    out.set_item("columns", sheet.columns.clone())?;
    out.set_item("rows", rows)?;
    out.set_item("csv", text(Format::Csv))?;
    out.set_item(
        "json",
        String::from_utf8_lossy(&output::render_summary(report, Format::Json)).into_owned(),
    )?;
    out.set_item("table", text(Format::Table))?;
    out.set_item("fingerprint", report.job.fingerprint())?;
    out.set_item(
        "job",
        serde_json::to_string(&report.job).expect("a job always serializes"),
    )?;
    out.set_item(
        "job_toml",
        report
            .job
            .to_toml(&report.name)
            .map_err(PyValueError::new_err)?,
    )?;
    out.set_item("digests", PyBytes::new(py, &output::digests_file(report)))?;
    Ok(out.into_any().unbind())
}

/// Where a summary's job file and chunk digests go, beside it.
#[pyfunction]
fn side_files(path: PathBuf) -> (PathBuf, PathBuf) {
    (output::job_path(&path), output::digests_path(&path))
}

/// A value of a summary that did not reproduce: `(row, column, claimed,
/// recomputed)`.
type Differs = (String, String, String, String);

/// Recomputes the job of the summary at `path` (its job file and chunk digests
/// beside it) and compares: returns `(job fingerprint, [(row, column, claimed,
/// recomputed)])`, empty when everything compared is the same bit for bit. By-value
/// models are found in `dirs`.
#[pyfunction]
#[pyo3(signature = (path, dirs, worker, backend=None, workers=None))]
fn verify(
    py: Python<'_>,
    path: PathBuf,
    dirs: Vec<String>,
    worker: Vec<String>,
    backend: Option<String>,
    workers: Option<usize>,
) -> PyResult<(String, Vec<Differs>)> {
    let source = Arc::new(Source {
        function: None,
        dirs,
        options: Options::default(),
        capture: None,
    });
    let registry = model::registry(source, Stash::default());
    let mut claim =
        // No warning that the job's model runs its own code: `carlo.verify` is a Python
        // program asking to rerun a Python model (its docstring says so).
        carlo::verify::Claim::read(&path, &registry, &mut |_| {})
            .map_err(|e| errors::to_py(py, e, &[]))?;
    let experiment = &mut claim.experiment;
    match backend.as_deref() {
        None => {}
        Some("threads") => experiment.backend = Backend::Threads,
        Some("sequential") => experiment.backend = Backend::Sequential,
        Some("processes") => experiment.backend = Backend::Processes,
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "backend={other:?}: one of \"sequential\", \"threads\", \"processes\""
            )));
        }
    }
    if let Some(w) = workers {
        experiment.workers = if w == 0 {
            carlo::backend::available_cores()
        } else {
            w
        };
    }
    if let Some((program, args)) = worker.split_first() {
        experiment.worker_command = Some(WorkerCommand {
            program: program.into(),
            args: args.iter().map(Into::into).collect(),
        });
    }
    let experiment = &claim.experiment;
    let report = py
        .detach(|| engine::run(experiment, &mut engine::Quiet))
        .map_err(|e| errors::to_py(py, e, &[]))?;
    // Rows matched by their labels, every column the job decides, as `carlo verify`.
    let sheet = output::summary(&report);
    let keys: Vec<String> = experiment.job.sweep.iter().map(|k| k.key.clone()).collect();
    let mut labels = vec!["quantity"];
    labels.extend(keys.iter().map(String::as_str));
    let found = carlo::verify::compare::compare(&claim, &sheet, &labels)
        .differences
        .into_iter()
        .map(|d| (d.row, d.column, d.claimed, d.recomputed))
        .collect();
    Ok((claim.fingerprint, found))
}

/// A Python value as a TOML value: bools, ints, floats, strings, lists and tuples,
/// dicts with string keys.
fn toml_value(value: &Bound<'_, PyAny>) -> PyResult<toml::Value> {
    if value.is_instance_of::<PyBool>() {
        return Ok(toml::Value::Boolean(value.extract()?));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(toml::Value::Float(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(toml::Value::String(value.extract()?));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        return Ok(toml::Value::Table(toml_table(dict)?));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value
            .try_iter()?
            .map(|item| toml_value(&item?))
            .collect::<PyResult<Vec<_>>>()
            .map(toml::Value::Array);
    }
    if value.hasattr("__index__")? {
        return value
            .extract::<i64>()
            .map(toml::Value::Integer)
            .map_err(|_| {
                PyValueError::new_err(format!(
                    "{value} does not fit a config integer (-2^63 to 2^63 - 1)"
                ))
            });
    }
    if value.hasattr("__float__")? {
        // numpy's float32 and other float-like scalars.
        return Ok(toml::Value::Float(value.extract()?));
    }
    if value.hasattr("__fspath__")? {
        return Ok(toml::Value::String(
            value.extract::<PathBuf>()?.display().to_string(),
        ));
    }
    Err(PyTypeError::new_err(format!(
        "{} is not a config value (bool, int, float, str, list or dict)",
        value.repr()?
    )))
}

fn toml_table(dict: &Bound<'_, PyDict>) -> PyResult<toml::Table> {
    let mut table = toml::Table::new();
    for (key, value) in dict.iter() {
        let key: String = key
            .extract()
            .map_err(|_| PyTypeError::new_err(format!("config keys are strings, found {key}")))?;
        let py = dict.py();
        let value = toml_value(&value)
            .map_err(|e| PyErr::from_type(e.get_type(py), format!("{key}: {}", e.value(py))))?;
        table.insert(key, value);
    }
    Ok(table)
}

/// The module.
#[pymodule]
fn _carlo(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(side_files, m)?)?;
    m.add_function(wrap_pyfunction!(worker::serve_worker, m)?)?;
    m.add_class::<rng::Rng>()?;
    m.add_class::<Pool>()?;
    m.add("DERIVATION", carlo::random::lanes::METHOD)?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
