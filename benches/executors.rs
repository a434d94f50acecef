//! Executor overhead per chunk: the same pi job cut into chunks of different sizes,
//! on each backend. Where throughput stops improving with larger chunks, the
//! per-chunk cost (a stream jump, scheduling, a message, the merge) has vanished in
//! the work; the default `chunk_size` is chosen from this (see the README).

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

use carlo::config::Job;
use carlo::engine::{Quiet, run_on};
use carlo::exec::{Executor, Processes, Sequential, Threads};
use carlo::model::{Context, ModelSpec, Registry};
use carlo::models::PiParams;

const SAMPLES: u64 = 1 << 22;

fn overhead(c: &mut Criterion) {
    let mut group = c.benchmark_group("executor_overhead");
    group.throughput(Throughput::Elements(SAMPLES));
    group.sample_size(10);
    for chunk_size in [256u64, 1024, 4096, 16_384, 65_536, 262_144] {
        let job = Job {
            samples: SAMPLES,
            seed: 1,
            chunk_size,
            confidence: 0.95,
            model: ModelSpec::new("pi", &PiParams {}),
            target: None,
            sampler: Default::default(),
            sweep: Vec::new(),
        };
        let model = Registry::builtin()
            .build(&job.model, &Context::new(job.seed))
            .expect("pi builds");
        let backends: Vec<(&str, Box<dyn Executor>)> = vec![
            ("sequential", Box::new(Sequential)),
            (
                "threads-2",
                Box::new(Threads::new(2).expect("a pool starts")),
            ),
            (
                "processes-2",
                // The bench binary is not carlo: point the workers at the real one.
                Box::new(
                    Processes::with_program(env!("CARGO_BIN_EXE_carlo"), 2).expect("workers start"),
                ),
            ),
        ];
        for (name, mut executor) in backends {
            group.bench_with_input(BenchmarkId::new(name, chunk_size), &job, |b, job| {
                b.iter(|| run_on("bench", job, model.as_ref(), executor.as_mut(), &mut Quiet))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
