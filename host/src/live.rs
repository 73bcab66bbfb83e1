//! The host on real time, as `nexori serve` and `nexori stdio` run it: durable reporting in the
//! data directory, mods compiled through the on-disk cache, every match recorded for replay, and
//! the drain that lets pending results go out before the process ends.
//!
//! The host's clock is the system clock read once per turn ([`turn_time`]): each turn first runs
//! what fell due up to then (each at its own due time) and then applies the turn's messages at
//! that time, and nothing in between reads the system clock. That makes a match a function of
//! its messages and their times, which is what its log records (docs/replay.md).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::HostConfig;
use nexori_host::arena_host::{ArenaHost, HostClock};
use nexori_host::recording::Recorder;
use nexori_host::wasm::engine::EngineSettings;
use nexori_host::wasm::loader::LoadError;
use nexori_recording::DirSink;
use nexori_reporting::outbox::Outbox;
use nexori_reporting::sender::ResultSender;
use nexori_reporting::{self as reporting, IdGenerator};
use nexori_runtime::clock::{Clock, SharedClock, SystemClock, VirtualClock};

/// The time of a turn that starts now: the system clock, epoch ms.
pub fn turn_time() -> i64 {
    SystemClock.now_epoch_ms()
}

/// A host on the system clock with its reporting.
pub struct LiveHost {
    pub host: ArenaHost,
    pub outbox: Option<Arc<Outbox>>,
    pub sender: Option<Arc<ResultSender>>,
}

impl LiveHost {
    /// Sets up reporting (outbox at `data_dir/outbox.sqlite`), the compile cache
    /// (`data_dir/compiled`) and loads `mods_dir`; the mods that failed are returned.
    pub fn start(
        config: &HostConfig,
        data_dir: &Path,
        mods_dir: &Path,
        front_end: &str,
    ) -> anyhow::Result<(Self, Vec<(String, LoadError)>)> {
        config
            .check_base_url()
            .and_then(|()| config.recording.validate())
            .map_err(|e| anyhow::anyhow!("invalid config: {e}"))?;
        std::fs::create_dir_all(data_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create the data directory {}: {e}",
                data_dir.display()
            )
        })?;
        let clock: SharedClock = Arc::new(SystemClock);
        let reporting = reporting::setup(
            &config.reporting(),
            clock,
            IdGenerator::Random,
            Some(&data_dir.join("outbox.sqlite")),
            false,
        )?;
        let mut host = ArenaHost::new(
            config.host_settings(),
            HostClock::Virtual(VirtualClock::new(turn_time())),
            reporting.reporter,
            false,
            &EngineSettings::from_settings(&config.host_settings()),
        )?;
        host.set_admission_publisher(reporting.publisher);
        host.set_compile_cache(data_dir.join("compiled"));
        if config.recording.enabled {
            let dir = config.recording.dir_in(data_dir);
            let sink = DirSink::start(dir.clone(), config.recording.retention())
                .map_err(|e| anyhow::anyhow!("cannot record matches in {}: {e}", dir.display()))?;
            host.set_recorder(Recorder::new(
                Box::new(sink),
                front_end,
                config.recorded_settings(),
            ));
        }
        let failures = host.load_mods_dir(mods_dir)?;
        let live = Self {
            host,
            outbox: reporting.outbox,
            sender: reporting.sender,
        };
        Ok((live, failures))
    }

    /// Results stored but not yet acknowledged or failed.
    pub fn pending_results(&self) -> i64 {
        self.outbox
            .as_ref()
            .and_then(|o| o.depth().ok())
            .map_or(0, |(pending, ..)| pending)
    }

    /// Keeps time moving until no result is pending or in flight, or until `deadline`;
    /// `deliver` sends each round's commands to the game. Returns the results still pending.
    pub fn drain<E>(
        &mut self,
        deadline: Instant,
        mut deliver: impl FnMut(&mut ArenaHost) -> Result<(), E>,
    ) -> Result<i64, E> {
        while Instant::now() < deadline {
            self.host.advance_to(turn_time());
            deliver(&mut self.host)?;
            let in_flight = self.sender.as_ref().map_or(0, |s| s.in_flight());
            // Results that could not be committed yet are pending too.
            let committing = self.host.commit_health().failing().is_some();
            if self.pending_results() == 0 && in_flight == 0 && !committing {
                break;
            }
            if let Some(sender) = &self.sender {
                sender.wake();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Some(cause) = self.host.commit_health().failing() {
            // Nothing of those results reached the game server either (their commands are held).
            tracing::error!(target: "nexori::reporting", "stopping with results that could not be made durable (outbox commit failing: {cause}); they are lost");
        }
        Ok(self.pending_results())
    }
}
