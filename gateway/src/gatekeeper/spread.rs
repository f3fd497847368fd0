//! Spreading one review's templates over the cores other reviews leave idle.
//!
//! The engine time of a review is the sum of its templates' (tens of them, each independent
//! and each with its own pool of evaluators). A template is the unit of work: its matched
//! constraints run one after the other, as one query of the frameworks' hook would. Below
//! full load a review takes helpers from a small set of threads started once, one per core
//! beyond the first: the calling thread works too, taking templates from the front of the list
//! while helpers take them from the back, so that from one review to the next each core tends
//! to evaluate the same templates and finds their programs in its own cache. At full load no
//! helper is asked for, as spreading would only add hand-overs and contention.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rego_runtime::{Entrypoint, Error as EngineError, Evaluation, Input, Limits, PreparedInput};

use super::templates::CompiledTemplate;

/// Reviews with fewer templates to evaluate than this stay on the calling thread: handing
/// work over costs microseconds, about what one small template costs.
pub const PARALLEL_MIN_TEMPLATES: usize = 8;

/// One template's part of a review: the input of each matched constraint, in name order.
pub struct TemplateTask {
    pub template: Arc<CompiledTemplate>,
    pub inputs: Vec<PreparedInput>,
}

/// A template's answer: `data.template.violation` per input, or the first error, which fails
/// the whole template (the frameworks query all of its constraints at once).
pub type TemplateAnswer = Result<Vec<Evaluation>, EngineError>;

/// Runs every task; the answer at `i` is `tasks[i]`'s. `helpers` threads join in, or as many
/// as idle cores allow when `None`.
pub fn run_all(
    tasks: Vec<TemplateTask>,
    limits: &Limits,
    helpers: Option<usize>,
) -> Vec<TemplateAnswer> {
    let (_in_flight, busy) = InFlight::enter();
    let helpers = match helpers {
        Some(helpers) => helpers,
        None if tasks.len() < PARALLEL_MIN_TEMPLATES => 0,
        None => cores().saturating_sub(busy),
    };
    // Only helpers waiting for work right now: a helper still busy with another review would
    // take this one's task late (and find nothing left), while the queue held its input.
    let helpers = helpers.min(pool().waiting.load(Ordering::Relaxed));
    let review = Arc::new(SharedReview {
        tasks,
        limits: *limits,
        claims: Claims::default(),
    });
    let mut slots: Vec<Option<TemplateAnswer>> = review.tasks.iter().map(|_| None).collect();
    let (results, received) = mpsc::channel();
    for _ in 0..helpers {
        let review = review.clone();
        let results = results.clone();
        pool().submit(Box::new(move || review.help(&results)));
    }
    drop(results);
    let mut ran_here = 0;
    while let Some(i) = review.claims.take(End::Front, review.tasks.len()) {
        slots[i] = Some(review.run(i));
        ran_here += 1;
    }
    // Every template a helper claimed sends exactly one result (a panic included), so this
    // waits for those only, never for a helper that has not started yet.
    for _ in ran_here..slots.len() {
        match received.recv() {
            Ok((i, outcome)) => slots[i] = Some(outcome),
            Err(_) => break,
        }
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(i, slot)| slot.unwrap_or_else(|| review.run(i)))
        .collect()
}

/// One review's work, shared by the calling thread and its helpers.
struct SharedReview {
    tasks: Vec<TemplateTask>,
    limits: Limits,
    claims: Claims,
}

/// Which of a review's templates are taken: from the front (the calling thread) in the low 32
/// bits, from the back (helpers) in the high 32, so that the two ends meet without overlap.
#[derive(Default)]
struct Claims(AtomicU64);

impl Claims {
    /// The next of `len` templates nobody has taken yet, from `end`.
    fn take(&self, end: End, len: usize) -> Option<usize> {
        let len = len as u64;
        let step = match end {
            End::Front => 1,
            End::Back => 1 << 32,
        };
        let split = |claimed: u64| (claimed & u64::from(u32::MAX), claimed >> 32);
        let before = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |claimed| {
                let (front, back) = split(claimed);
                (front + back < len).then_some(claimed + step)
            })
            .ok()?;
        let (front, back) = split(before);
        Some(match end {
            End::Front => front,
            End::Back => len - 1 - back,
        } as usize)
    }
}

/// Which end of a review's template list a thread takes from.
#[derive(Clone, Copy)]
enum End {
    Front,
    Back,
}

impl SharedReview {
    fn run(&self, i: usize) -> TemplateAnswer {
        let TemplateTask { template, inputs } = &self.tasks[i];
        // Most reviews find the program evicted since the last: its lines are asked for at
        // once rather than missed one node at a time.
        template.prepared.warm();
        inputs
            .iter()
            .map(|input| {
                template.prepared.evaluate(
                    Entrypoint::Data(&template.violation_path),
                    Input::Prepared(input),
                    &self.limits,
                )
            })
            .collect()
    }

    /// A helper's part: templates until none is left, each result sent back.
    fn help(&self, results: &Sender<(usize, TemplateAnswer)>) {
        while let Some(i) = self.claims.take(End::Back, self.tasks.len()) {
            let outcome = catch_unwind(AssertUnwindSafe(|| self.run(i))).unwrap_or_else(|_| {
                Err(EngineError::Internal(
                    "a helper thread panicked evaluating this template".to_string(),
                ))
            });
            if results.send((i, outcome)).is_err() {
                return;
            }
        }
    }
}

/// Reviews evaluating templates right now, in this process.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// Counts a review in [`IN_FLIGHT`] while it lives.
struct InFlight;

impl InFlight {
    /// Enters, returning how many reviews (this one included) are evaluating.
    fn enter() -> (InFlight, usize) {
        (InFlight, IN_FLIGHT.fetch_add(1, Ordering::Relaxed) + 1)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The cores this process may use, read once (the lookup reads cgroup files).
fn cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

type Task = Box<dyn FnOnce() + Send>;

/// Helper threads, started on first use and kept for the life of the process.
struct Pool {
    tasks: Mutex<Sender<Task>>,
    /// Helpers waiting for a task.
    waiting: Arc<AtomicUsize>,
}

impl Pool {
    fn submit(&self, task: Task) {
        let tasks = self.tasks.lock().unwrap_or_else(PoisonError::into_inner);
        // Every helper gone (they never return while the pool lives): the caller does the work.
        let _ = tasks.send(task);
    }
}

fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tasks, queue) = mpsc::channel::<Task>();
        let queue = Arc::new(Mutex::new(queue));
        let waiting = Arc::new(AtomicUsize::new(0));
        for n in 1..cores() {
            let (queue, waiting) = (queue.clone(), waiting.clone());
            // A helper that cannot start is one fewer; with none the caller does all the work.
            let _ = std::thread::Builder::new()
                .name(format!("review-helper-{n}"))
                .stack_size(rego_runtime::limits::EVALUATION_STACK_BYTES)
                .spawn(move || work(&queue, &waiting));
        }
        Pool {
            tasks: Mutex::new(tasks),
            waiting,
        }
    })
}

/// A helper thread's loop: one task at a time, for as long as the process runs.
fn work(queue: &Mutex<Receiver<Task>>, waiting: &AtomicUsize) {
    loop {
        waiting.fetch_add(1, Ordering::Relaxed);
        let task = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        waiting.fetch_sub(1, Ordering::Relaxed);
        match task {
            // A task catches its own panics; one that escapes must not end the helper.
            Ok(task) => drop(catch_unwind(AssertUnwindSafe(task))),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_and_the_back_meet_without_overlap() {
        let claims = Claims::default();
        assert_eq!(claims.take(End::Front, 5), Some(0));
        assert_eq!(claims.take(End::Back, 5), Some(4));
        assert_eq!(claims.take(End::Back, 5), Some(3));
        assert_eq!(claims.take(End::Front, 5), Some(1));
        assert_eq!(claims.take(End::Front, 5), Some(2));
        assert_eq!(claims.take(End::Back, 5), None);
        assert_eq!(claims.take(End::Front, 5), None);
        assert_eq!(Claims::default().take(End::Back, 0), None);
    }

    #[test]
    fn threads_at_both_ends_take_every_template_once() {
        let len = 10_000;
        let claims = Claims::default();
        let taken: Vec<Vec<usize>> = std::thread::scope(|scope| {
            let workers: Vec<_> = [End::Front, End::Back, End::Back]
                .into_iter()
                .map(|end| {
                    let claims = &claims;
                    scope.spawn(move || {
                        std::iter::from_fn(|| claims.take(end, len)).collect::<Vec<_>>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("joined"))
                .collect()
        });
        assert!(
            taken[0].windows(2).all(|w| w[0] < w[1]),
            "the front counts up"
        );
        let mut all: Vec<usize> = taken.concat();
        all.sort_unstable();
        assert_eq!(all, (0..len).collect::<Vec<_>>());
    }
}
