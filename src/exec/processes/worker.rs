//! The worker side: what `carlo worker` runs.

use std::io::{BufRead, Write};

use super::fault::Faults;
use super::protocol::{self, Reply, Request};
use crate::Error;
use crate::config::Job;
use crate::exec::run_blocks;
use crate::model::{Model, Registry};
use crate::random::lanes::LaneCursor;

/// The job a worker was greeted with, ready to run chunks.
struct Greeted {
    job: Job,
    model: Box<dyn Model>,
    cursor: LaneCursor,
    /// Whether it has run a chunk yet.
    warm: bool,
}

/// Serves the protocol on standard input and output until standard input ends: the
/// body of `carlo worker`. `registry` must know the model of every job the parent
/// sends, which it does when the parent is the same program.
///
/// A worker ignores SIGINT, SIGTERM, SIGHUP and SIGUSR1: they reach the whole process
/// group, and the parent, not each worker, decides what an interrupt means (for
/// example to write a checkpoint). It stops when its standard input closes, which happens however the
/// parent ends, and on Linux the parent also has the kernel kill it if the parent dies
/// (see the parent's spawn).
pub fn serve_stdio(registry: &Registry) -> Result<(), Error> {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to "ignore" installs no handler code.
    unsafe {
        // The signals that stop a run reach the whole process group (a terminal's
        // Ctrl-C, a scheduler's SIGTERM); the parent saves and ends the run.
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGUSR1] {
            libc::signal(signal, libc::SIG_IGN);
        }
    }
    // A panic message spans several lines; the parent reports a worker's last stderr
    // line, so make that line the one that says what happened.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        crate::say!("carlo worker: panicked{at}: {what}");
    }));
    serve(std::io::stdin().lock(), std::io::stdout().lock(), registry)
}

/// Answers the requests read from `input` on `output`, in order, until `input` ends.
/// A request it cannot serve gets an error reply, and ends the worker with that error.
pub fn serve(
    mut input: impl BufRead,
    mut output: impl Write,
    registry: &Registry,
) -> Result<(), Error> {
    let faults = Faults::from_env();
    let mut greeted: Option<Greeted> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = input
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::Execution(format!("worker: cannot read requests: {e}")))?;
        if read == 0 {
            return Ok(());
        }
        let reply = match answer(&line, &faults, &mut greeted, registry) {
            Ok(reply) => reply,
            Err((message, input)) => {
                // Best effort: the parent may be gone, and the error is returned anyway.
                let _ = send(
                    &mut output,
                    &Reply::Error {
                        message: message.clone(),
                        input,
                    },
                );
                let message = format!("worker: {message}");
                return Err(if input {
                    Error::Input(message)
                } else {
                    Error::Execution(message)
                });
            }
        };
        send(&mut output, &reply)
            .map_err(|e| Error::Execution(format!("worker: cannot send results: {e}")))?;
    }
}

/// The reply to one request line, or why there is none and whether the job is at
/// fault (bad input) rather than the worker or the parent.
fn answer(
    line: &[u8],
    faults: &Result<Faults, Error>,
    greeted: &mut Option<Greeted>,
    registry: &Registry,
) -> Result<Reply, (String, bool)> {
    let runtime = |message: String| (message, false);
    match protocol::decode::<Request>(line).map_err(runtime)? {
        Request::Hello { v, job } => {
            if let Ok(faults) = faults {
                faults.before_hello();
            }
            let job = Request::job(v, job).map_err(runtime)?;
            let model = job
                .build_model(registry)
                .map_err(|e| (e.to_string(), e.is_input()))?;
            let cursor = LaneCursor::new(job.seed);
            *greeted = Some(Greeted {
                job,
                model,
                cursor,
                warm: false,
            });
            Ok(Reply::Ready {
                v: protocol::VERSION,
            })
        }
        Request::Chunk {
            index,
            blocks,
            attempt,
        } => {
            let Some(g) = greeted else {
                return Err(runtime(format!("asked for chunk {index} before any hello")));
            };
            let faults = faults.as_ref().map_err(|e| (e.to_string(), true))?;
            if blocks.start >= blocks.end || blocks.end > g.job.blocks() {
                return Err(runtime(format!(
                    "asked for chunk {index} of blocks {blocks:?}, but the job has {} blocks",
                    g.job.blocks()
                )));
            }
            if !g.warm {
                g.warm = true;
                faults.before_first_chunk();
            }
            faults.before_chunk(index, attempt);
            let stats = run_blocks(&g.job, g.model.as_ref(), blocks, &mut g.cursor)
                .map_err(|message| runtime(Error::Chunk { index, message }.to_string()))?;
            Ok(Reply::done(index, stats))
        }
    }
}

/// Writes one message and flushes it: the parent is waiting for it.
fn send(output: &mut impl Write, reply: &Reply) -> std::io::Result<()> {
    output.write_all(protocol::encode(reply).as_bytes())?;
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelSpec;
    use crate::models::PiParams;

    fn registry() -> Registry {
        Registry::builtin()
    }

    fn job() -> Job {
        Job {
            samples: 4 * 4096 + 1000,
            seed: 3,
            chunk_size: 4096,
            confidence: 0.95,
            model: ModelSpec::new("pi", &PiParams {}),
            target: None,
            sampler: Default::default(),
            sweep: Vec::new(),
        }
    }

    fn replies(input: &str) -> (Result<(), Error>, Vec<Reply>) {
        let mut out = Vec::new();
        let result = serve(input.as_bytes(), &mut out, &registry());
        let replies = out
            .split_inclusive(|&b| b == b'\n')
            .map(|l| protocol::decode(l).unwrap())
            .collect();
        (result, replies)
    }

    #[test]
    fn answers_chunks_like_the_parent_would() {
        let mut input = protocol::encode(&Request::hello(&job()));
        for index in [3, 0, 2] {
            input += &protocol::encode(&Request::Chunk {
                index,
                blocks: index..index + 1,
                attempt: 0,
            });
        }
        let (result, replies) = replies(&input);
        result.unwrap();
        assert_eq!(
            replies[0],
            Reply::Ready {
                v: protocol::VERSION
            }
        );
        let job = job();
        let model = job.build_model(&registry()).unwrap();
        // A fresh cursor per chunk: the worker's one cursor, visiting 3, 0, 2, must
        // not change what a chunk computes.
        let expected: Vec<Reply> = (0..4)
            .map(|i| {
                let mut cursor = LaneCursor::new(job.seed);
                Reply::done(
                    i,
                    run_blocks(&job, model.as_ref(), i..i + 1, &mut cursor).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            replies[1..],
            [
                expected[3].clone(),
                expected[0].clone(),
                expected[2].clone()
            ]
        );
    }

    #[test]
    fn refuses_bad_requests_with_an_error_reply() {
        let hello = protocol::encode(&Request::hello(&job()));
        let cases = [
            (
                "{\"type\":\"chunk\",\"index\":0,\"blocks\":{\"start\":0,\"end\":1},\"attempt\":0}\n"
                    .to_string(),
                "before any hello",
            ),
            (
                format!(
                    "{hello}{{\"type\":\"chunk\",\"index\":4,\"blocks\":{{\"start\":4,\"end\":9}},\"attempt\":0}}\n"
                ),
                "the job has 5 blocks",
            ),
            (
                hello.replace(&format!("\"v\":{}", protocol::VERSION), "\"v\":99"),
                "version 99",
            ),
            (format!("{hello}{{\"type\":\"chunk\""), "truncated"),
            ("garbage\n".to_string(), "malformed"),
        ];
        for (input, needle) in cases {
            let (result, replies) = replies(&input);
            let err = result.unwrap_err().to_string();
            assert!(err.contains(needle), "{input:?}: {err}");
            match replies.last() {
                Some(Reply::Error { message, .. }) => {
                    assert!(message.contains(needle), "{message}")
                }
                other => panic!("{input:?}: last reply {other:?}"),
            }
        }
    }

    #[test]
    fn a_job_this_worker_cannot_build_is_refused_as_bad_input() {
        let mut job = job();
        job.model = ModelSpec::from_params("nonesuch", Default::default());
        let (result, answered) = replies(&protocol::encode(&Request::hello(&job)));
        let err = result.unwrap_err();
        assert!(err.is_input(), "{err}");
        match answered.last() {
            Some(Reply::Error { message, input }) => {
                assert!(*input && message.contains("nonesuch"), "{message}")
            }
            other => panic!("last reply {other:?}"),
        }
        // A broken request is the parent's fault, not the job's.
        let (_, answered) = replies("garbage\n");
        assert!(matches!(
            answered.last(),
            Some(Reply::Error { input: false, .. })
        ));
    }

    #[test]
    fn ends_quietly_on_end_of_input() {
        let (result, replies) = replies("");
        result.unwrap();
        assert!(replies.is_empty());
    }
}
