//! Where a request's time goes: the local model, the governor, the tools.

use std::cell::Cell;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::Action;

/// Where one request's time went, in milliseconds. The rest of `total_ms` is the agent's own
/// work: storing the conversation, writing the audit chain, building prompts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Timings {
    /// From the request's arrival to its answer.
    pub total_ms: f64,
    /// The local models: tool preselection's embedding, planning, answering (the first
    /// request also waits for the model to load).
    pub model_ms: f64,
    /// The governor's decisions: policy, guards, rate and spend checks, intent tokens.
    pub governor_ms: f64,
    /// The tool calls, each as measured around its own run (the document search made before
    /// planning included).
    pub tools_ms: f64,
}

/// A request's stopwatch: accumulates model and governor time while the request runs.
pub(crate) struct RequestClock {
    started: Instant,
    model: Cell<Duration>,
    governor: Cell<Duration>,
    /// Tool time of calls that are context, not actions of the outcome (the document search).
    context_tools_ms: Cell<f64>,
}

impl RequestClock {
    /// Starts timing a request.
    pub(crate) fn start() -> Self {
        Self {
            started: Instant::now(),
            model: Cell::new(Duration::ZERO),
            governor: Cell::new(Duration::ZERO),
            context_tools_ms: Cell::new(0.0),
        }
    }

    /// Counts the tool time of `actions` that gather context and are not the outcome's.
    pub(crate) fn context_tools(&self, actions: &[Action]) {
        self.context_tools_ms
            .set(self.context_tools_ms.get() + tool_millis(actions));
    }

    /// Runs `work` and counts its time as the model's.
    pub(crate) fn model<T>(&self, work: impl FnOnce() -> T) -> T {
        Self::timed(&self.model, work)
    }

    /// Runs `work` and counts its time as the governor's.
    pub(crate) fn governor<T>(&self, work: impl FnOnce() -> T) -> T {
        Self::timed(&self.governor, work)
    }

    fn timed<T>(total: &Cell<Duration>, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let result = work();
        total.set(total.get() + started.elapsed());
        result
    }

    /// The timings so far, with the tool time of `actions`.
    pub(crate) fn timings(&self, actions: &[Action]) -> Timings {
        Timings {
            total_ms: millis(self.started.elapsed()),
            model_ms: millis(self.model.get()),
            governor_ms: millis(self.governor.get()),
            tools_ms: self.context_tools_ms.get() + tool_millis(actions),
        }
    }
}

fn tool_millis(actions: &[Action]) -> f64 {
    actions
        .iter()
        .fold(0.0, |sum, action| sum + action.duration_ms)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_and_governor_time_accumulate_separately() {
        let clock = RequestClock::start();
        clock.model(|| std::thread::sleep(Duration::from_millis(20)));
        clock.model(|| std::thread::sleep(Duration::from_millis(20)));
        let value = clock.governor(|| 7);
        assert_eq!(value, 7);
        let action = Action {
            tool: "get_logs".into(),
            decision_id: "d".into(),
            args: serde_json::Map::new(),
            result: None,
            error: None,
            duration_ms: 12.5,
        };
        clock.context_tools(std::slice::from_ref(&action));
        let timings = clock.timings(&[action.clone(), action]);
        assert!(timings.model_ms >= 40.0, "{timings:?}");
        assert!(timings.governor_ms < timings.model_ms, "{timings:?}");
        assert!((timings.tools_ms - 37.5).abs() < f64::EPSILON);
        let idle = RequestClock::start().timings(&[]);
        assert!(
            idle.tools_ms.is_sign_positive(),
            "no tool time is +0, not -0"
        );
        assert!(timings.total_ms >= timings.model_ms + timings.governor_ms);
    }
}
