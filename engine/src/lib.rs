//! Kiln as a library: the engine a custom pipeline embeds instead of running `kiln build`.
//!
//! [`Engine::new`] has every built-in builder, provisioner, post-processor and data source
//! registered (amazon-ebs and amazon-ami with the `amazon` feature); [`Engine::register`]
//! adds a pipeline's own plugin types. [`Engine::load`] reads Packer templates (HCL2 or legacy
//! JSON) into a [`Template`], and [`Engine::start`] runs its builds in the background:
//! the returned [`Run`] yields typed [`Event`]s as they happen (secrets already masked), can be
//! cancelled (every build's cleanup then runs), and ends with each build's [`BuildOutcome`].
//! The engine prints nothing and reads no environment: everything comes in through
//! [`Load`] and [`Options`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), kiln_engine::Diagnostics> {
//! use kiln_engine::{Engine, EventKind, Load, Options};
//!
//! let engine = Engine::new();
//! let template = engine.load(Load::paths(["web.pkr.hcl"]).var("version", "1.2.3"))?;
//! let mut run = engine.start(&template, Options::default())?;
//! while let Some(ev) = run.next_event().await {
//!     if let EventKind::Say(text) = &ev.kind {
//!         println!("{}: {text}", ev.build);
//!     }
//! }
//! for outcome in run.wait().await? {
//!     println!("{}: {}", outcome.name, if outcome.result.is_ok() { "ok" } else { "failed" });
//! }
//! # Ok(())
//! # }
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

pub use kiln_catalog::Catalog;
pub use kiln_core::artifact::Artifact;
pub use kiln_core::event::{ArtifactInfo, Event, EventKind};
pub use kiln_core::journal::Journal;
pub use kiln_core::operator::{FailureChoice, Operator, FAILURE_QUESTION};
pub use kiln_core::orchestrator::{BuildOutcome, RunOptions};
pub use kiln_core::plugin::OnError;
pub use kiln_core::registry::Registry;
pub use kiln_core::{BuildError, Diagnostic, Diagnostics, OutputStream};
pub use kiln_template::{LoadOptions, Template};

pub mod record;

/// The registry and what builds run against.
#[derive(Debug)]
pub struct Engine {
    registry: Registry,
    catalog: Option<Arc<kiln_catalog::Catalog>>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    /// An engine with every built-in plugin registered.
    #[must_use]
    pub fn new() -> Self {
        let mut r = Registry::new();
        kiln_builder_null::register(&mut r);
        kiln_builder_qemu::register(&mut r);
        kiln_provisioners::register(&mut r);
        kiln_post_processors::register(&mut r);
        #[cfg(feature = "amazon")]
        kiln_builder_amazon::register(&mut r);
        #[cfg(feature = "docker")]
        kiln_builder_docker::register(&mut r);
        Engine {
            registry: r,
            catalog: None,
        }
    }

    /// Records every run this engine starts in `catalog` (as the catalog's actor): one version
    /// per bucket once the run ends (see [`record`] and [`Run::finish`]).
    #[must_use]
    pub fn catalog(mut self, catalog: Arc<kiln_catalog::Catalog>) -> Self {
        self.catalog = Some(catalog);
        self
    }

    /// Adds plugin types (`r.builder(..)`, `r.provisioner(..)`, `r.data_source(..)` ...).
    #[must_use]
    pub fn register(mut self, f: impl FnOnce(&mut Registry)) -> Self {
        f(&mut self.registry);
        self
    }

    /// The registry, as it is now.
    #[must_use]
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Loads a template: parsing, variables, locals, data sources, builds.
    ///
    /// # Errors
    /// Every problem found, each located in its file.
    pub fn load(&self, load: Load) -> Result<Template, Diagnostics> {
        let mut opts = load.0;
        opts.data_sources = self.registry.data_sources();
        kiln_template::load(&opts)
    }

    /// Validates the template's selected builds against the plugins and starts them on the
    /// current tokio runtime.
    ///
    /// # Errors
    /// A selection that matches nothing, or invalid plugin settings (located).
    pub fn start(&self, template: &Template, options: Options) -> Result<Run, Diagnostics> {
        let (events, rx) = kiln_core::event::Events::channel();
        let orch = kiln_core::orchestrator::Orchestrator::new(self.registry.clone(), events);
        let (opts, provenance) = (options.0, options.1);
        let selected = orch.select(&template.plan, &opts)?;
        if selected.is_empty() {
            return Err(Diagnostics::from(Diagnostic::error(
                "No builds to run",
                "The template defines no builds, or -only/-except matched none.",
            )));
        }
        orch.validate(&template.plan, &opts)?;
        let plan = Arc::new(template.plan.clone());
        let cancel = CancellationToken::new();
        let c = cancel.clone();
        let task = tokio::spawn(async move { orch.run_validated(plan, &opts, c).await });
        let (events, recorder) = match &self.catalog {
            None => (rx, None),
            Some(cat) => {
                let (tx, user_rx) = tokio::sync::mpsc::unbounded_channel();
                let ended = CancellationToken::new();
                let relay = tokio::spawn(relay(rx, tx, source_types(template), ended.clone()));
                (
                    user_rx,
                    Some(Recorder {
                        catalog: cat.clone(),
                        subject: record::Subject::of(template),
                        provenance: record::Provenance {
                            paths: provenance.paths,
                            cwd: provenance.cwd,
                            actor: cat.actor().clone(),
                            parent: None,
                        },
                        relay,
                        ended,
                    }),
                )
            }
        };
        Ok(Run {
            events,
            cancel,
            task,
            recorder,
        })
    }
}

fn source_types(t: &Template) -> std::collections::HashMap<String, String> {
    t.plan
        .builds
        .iter()
        .map(|b| (b.name.clone(), b.source_type.clone()))
        .collect()
}

/// Passes the run's events on to the embedding program while noting, per build, what the
/// catalog records: when it started and ended, its artifacts or error, its documents.
async fn relay(
    mut rx: UnboundedReceiver<Event>,
    tx: tokio::sync::mpsc::UnboundedSender<Event>,
    types: std::collections::HashMap<String, String>,
    ended: CancellationToken,
) -> Vec<record::Finished> {
    let mut builds: Vec<record::Finished> = Vec::new();
    loop {
        let ev = tokio::select! {
            ev = rx.recv() => match ev {
                Some(ev) => ev,
                None => break,
            },
            () = ended.cancelled() => match rx.try_recv() {
                Ok(ev) => ev,
                Err(_) => break,
            },
        };
        if !ev.build.is_empty() {
            let now = std::time::SystemTime::now();
            let i = match builds.iter().position(|b| b.name == ev.build) {
                Some(i) => i,
                None => {
                    builds.push(record::Finished {
                        name: ev.build.clone(),
                        source_type: types.get(&ev.build).cloned().unwrap_or_default(),
                        started: now,
                        finished: now,
                        result: Err("the build did not finish".into()),
                        documents: Vec::new(),
                    });
                    builds.len() - 1
                }
            };
            let b = &mut builds[i];
            match &ev.kind {
                EventKind::Document {
                    kind,
                    name,
                    content,
                } => b.document(kind, name, content),
                EventKind::BuildFinished {
                    error, artifacts, ..
                } => {
                    b.finished = now;
                    b.result = match error {
                        None => Ok(artifacts.clone()),
                        Some(e) => Err(e.clone()),
                    };
                }
                _ => {}
            }
        }
        // The embedding program may have stopped listening: the notes go on.
        let _ = tx.send(ev);
    }
    builds
}

/// What records a run when its engine has a catalog.
#[derive(Debug)]
struct Recorder {
    catalog: Arc<kiln_catalog::Catalog>,
    subject: record::Subject,
    provenance: record::Provenance,
    relay: tokio::task::JoinHandle<Vec<record::Finished>>,
    /// Cancelled once every build has ended: the relay takes what is queued and stops (a
    /// detached task may still hold a sender).
    ended: CancellationToken,
}

/// How a run ended: each build's outcome and, with a catalog, what was recorded in it.
#[derive(Debug)]
pub struct Finished {
    /// Each build's outcome.
    pub outcomes: Vec<BuildOutcome>,
    /// The versions recorded (bucket, version), when the engine has a catalog.
    pub recorded: Vec<(String, kiln_catalog::Version)>,
    /// Why the run could not be recorded, if it could not.
    pub record_error: Option<String>,
}

/// What to load: template paths or texts and variables (the library's `-var`, `-var-file`).
#[derive(Debug, Clone, Default)]
pub struct Load(pub LoadOptions);

impl Load {
    /// Template files or directories, read relative to the process's working directory.
    #[must_use]
    pub fn paths<P: Into<PathBuf>>(paths: impl IntoIterator<Item = P>) -> Self {
        Load(LoadOptions {
            paths: paths.into_iter().map(Into::into).collect(),
            cwd: PathBuf::from("."),
            ..LoadOptions::default()
        })
    }

    /// A template given as text; a `name` ending in `.json` is a legacy JSON template.
    #[must_use]
    pub fn text(name: &str, text: &str) -> Self {
        Load(LoadOptions {
            inline: vec![(name.into(), text.into())],
            cwd: PathBuf::from("."),
            ..LoadOptions::default()
        })
    }

    /// `-var name=value`.
    #[must_use]
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.0.vars.push((name.into(), value.into()));
        self
    }

    /// `-var-file`.
    #[must_use]
    pub fn var_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.0.var_files.push(path.into());
        self
    }

    /// The directory `path.cwd` is, and relative paths are read from.
    #[must_use]
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.0.cwd = dir.into();
        self
    }

    /// Environment variables for `PKR_VAR_*` and `env()` (none unless given).
    #[must_use]
    pub fn env(mut self, vars: impl IntoIterator<Item = (String, String)>) -> Self {
        self.0.env.extend(vars);
        self
    }
}

/// How to run: the library's `-only`, `-except`, `-parallel-builds`, `-on-error`, `-force`,
/// and what the catalog records of the template.
#[derive(Debug, Clone)]
pub struct Options(pub RunOptions, pub Provenance);

/// What the catalog records of where a run came from.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// The template files or directories (hashed, and their git commit found).
    pub paths: Vec<PathBuf>,
    /// What relative artifact paths are relative to.
    pub cwd: PathBuf,
}

impl Default for Provenance {
    fn default() -> Self {
        Provenance {
            paths: Vec::new(),
            cwd: PathBuf::from("."),
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options(
            RunOptions {
                run_uuid: uuid::Uuid::new_v4().to_string(),
                ..RunOptions::default()
            },
            Provenance::default(),
        )
    }
}

impl Options {
    /// `-only`: build names or globs.
    #[must_use]
    pub fn only(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.0.only = names.into_iter().map(Into::into).collect();
        self
    }

    /// `-except`.
    #[must_use]
    pub fn except(mut self, names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.0.except = names.into_iter().map(Into::into).collect();
        self
    }

    /// `-parallel-builds` (0: no limit).
    #[must_use]
    pub fn parallel_builds(mut self, n: usize) -> Self {
        self.0.parallel_builds = n;
        self
    }

    /// `-on-error`.
    #[must_use]
    pub fn on_error(mut self, e: OnError) -> Self {
        self.0.on_error = e;
        self
    }

    /// `-force`.
    #[must_use]
    pub fn force(mut self, force: bool) -> Self {
        self.0.force = force;
        self
    }

    /// Where downloads (ISOs) are cached.
    #[must_use]
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.0.cache_dir = Some(dir.into());
        self
    }

    /// A cleanup journal (see [`Journal::create`]), for `kiln cleanup` after a crash.
    #[must_use]
    pub fn journal(mut self, journal: Journal) -> Self {
        self.0.journal = journal;
        self
    }

    /// The template paths and working directory the catalog records (see [`Engine::catalog`]).
    #[must_use]
    pub fn provenance(
        mut self,
        paths: impl IntoIterator<Item = impl Into<PathBuf>>,
        cwd: impl Into<PathBuf>,
    ) -> Self {
        self.1 = Provenance {
            paths: paths.into_iter().map(Into::into).collect(),
            cwd: cwd.into(),
        };
        self
    }

    /// `-debug`: one build at a time, pausing (through the [`Operator`]) after each step,
    /// before each provisioner and before each cleanup.
    #[must_use]
    pub fn debug(mut self, debug: bool) -> Self {
        self.0.debug = debug;
        self
    }

    /// Who answers [`OnError::Ask`], `debug` pauses and `breakpoint` provisioners. Without
    /// one the run is unattended: pauses end at once and a failed step is cleaned up.
    #[must_use]
    pub fn operator(mut self, operator: Arc<dyn Operator>) -> Self {
        self.0.operator = Some(operator);
        self
    }
}

/// Builds running in the background.
#[derive(Debug)]
pub struct Run {
    events: UnboundedReceiver<Event>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<Result<Vec<BuildOutcome>, Diagnostics>>,
    recorder: Option<Recorder>,
}

impl Run {
    /// The next event; `None` once every build has ended.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Cancels every build; their cleanups run, and [`Run::wait`] then returns.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// A token that cancels this run (for a signal handler or a deadline).
    #[must_use]
    pub fn cancellation(&self) -> CancellationToken {
        self.cancel.clone()
    }

    /// Waits for every build to end (events not yet read are dropped).
    ///
    /// # Errors
    /// Problems found before any build started.
    pub async fn wait(self) -> Result<Vec<BuildOutcome>, Diagnostics> {
        self.finish().await.map(|f| f.outcomes)
    }

    /// Waits for every build to end and, when the engine has a catalog, records them.
    ///
    /// # Errors
    /// Problems found before any build started.
    pub async fn finish(self) -> Result<Finished, Diagnostics> {
        drop(self.events);
        let cancelled = self.cancel.is_cancelled();
        let outcomes = match self.task.await {
            Ok(r) => r?,
            Err(e) => {
                return Err(Diagnostics::from(Diagnostic::error(
                    "Build task failed",
                    e.to_string(),
                )))
            }
        };
        let mut done = Finished {
            outcomes,
            recorded: Vec::new(),
            record_error: None,
        };
        if let Some(r) = self.recorder {
            r.ended.cancel();
            let builds = r.relay.await.unwrap_or_default();
            match record::record(
                &r.catalog,
                &r.subject,
                builds,
                cancelled || self.cancel.is_cancelled(),
                &r.provenance,
            )
            .await
            {
                Ok(v) => done.recorded = v,
                Err(e) => done.record_error = Some(e.to_string()),
            }
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_template_from_text_builds_with_events_and_outcomes() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("hello.txt");
        let text = format!(
            "variable \"who\" {{\n  default = \"nobody\"\n}}\nsource \"file\" \"hello\" {{\n  content = \"hello ${{var.who}}\"\n  target  = \"{}\"\n}}\nbuild {{\n  sources = [\"source.file.hello\"]\n}}\n",
            target.display()
        );
        let engine = Engine::new();
        let t = engine
            .load(Load::text("t.pkr.hcl", &text).var("who", "kiln"))
            .unwrap();
        let mut run = engine.start(&t, Options::default()).unwrap();
        let mut kinds = Vec::new();
        while let Some(ev) = run.next_event().await {
            kinds.push(match ev.kind {
                EventKind::BuildStarted => "started",
                EventKind::BuildFinished { .. } => "finished",
                _ => "other",
            });
        }
        assert_eq!(kinds.first(), Some(&"started"));
        assert_eq!(kinds.last(), Some(&"finished"));
        let outcomes = run.wait().await.unwrap();
        assert_eq!(outcomes.len(), 1);
        assert_eq!(outcomes[0].name, "file.hello");
        assert!(outcomes[0].result.is_ok());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "hello kiln");
    }

    #[tokio::test]
    async fn an_engine_with_a_catalog_records_each_run_as_a_version() {
        let dir = tempfile::tempdir().unwrap();
        let cat = Arc::new(
            Catalog::open(kiln_catalog::Options {
                location: kiln_catalog::Location::Sqlite(dir.path().join("catalog.db")),
                actor: kiln_catalog::Actor {
                    user: "pipeline".into(),
                    host: "ci-7".into(),
                },
                archive_dir: dir.path().join("archive"),
                busy_timeout: std::time::Duration::from_secs(5),
                lifecycles: Vec::new(),
            })
            .await
            .unwrap(),
        );
        let target = dir.path().join("out.txt");
        let text = format!(
            "variable \"v\" {{\n  default = \"1.2.3\"\n}}\nvariable \"token\" {{\n  default   = \"s3cret\"\n  sensitive = true\n}}\nsource \"file\" \"f\" {{\n  content = \"v${{var.v}}\"\n  target  = \"{}\"\n}}\nbuild {{\n  sources = [\"source.file.f\"]\n}}\n",
            target.display()
        );
        let engine = Engine::new().catalog(cat.clone());
        let t = engine.load(Load::text("t.pkr.hcl", &text)).unwrap();
        for n in 1..=2 {
            let mut run = engine
                .start(&t, Options::default().provenance(["t.pkr.hcl"], dir.path()))
                .unwrap();
            // The embedding program still sees every event.
            let mut finished = 0;
            while let Some(ev) = run.next_event().await {
                finished += usize::from(matches!(ev.kind, EventKind::BuildFinished { .. }));
            }
            assert_eq!(finished, 1);
            let done = run.finish().await.unwrap();
            assert!(done.record_error.is_none(), "{:?}", done.record_error);
            assert_eq!(done.recorded.len(), 1);
            let (bucket, v) = &done.recorded[0];
            assert_eq!((bucket.as_str(), v.number), ("file.f", Some(n)));
        }
        let versions = cat.versions("file.f", true).await.unwrap();
        assert_eq!(versions.len(), 2);
        let v = cat.version("file.f", "latest").await.unwrap();
        assert_eq!(v.build_names, ["file.f"]);
        let shown = format!("{v:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[tokio::test]
    async fn outcomes_are_as_free_of_secrets_as_events() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display();
        std::fs::write(dir.path().join("afile"), "").unwrap();
        let template = |source: &str| {
            format!(
                "variable \"token\" {{\n  default   = \"hunter2-s3cret\"\n  sensitive = true\n}}\nsource \"file\" \"f\" {{\n  {source}\n}}\nbuild {{\n  sources = [\"source.file.f\"]\n}}\n"
            )
        };
        let engine = Engine::new();
        // Refused before it starts: the plugin's message quotes the path.
        let t = engine
            .load(Load::text(
                "t.pkr.hcl",
                &template(&format!(
                    "source = \"{d}/missing-${{var.token}}\"\n  target = \"{d}/out\""
                )),
            ))
            .unwrap();
        let e = engine
            .start(&t, Options::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing-<sensitive>"), "{e}");
        // Failing while it runs: the outcome's error quotes it.
        let t = engine
            .load(Load::text(
                "t.pkr.hcl",
                &template(&format!(
                    "content = \"x\"\n  target = \"{d}/afile/${{var.token}}/out\""
                )),
            ))
            .unwrap();
        let mut run = engine.start(&t, Options::default()).unwrap();
        let mut seen = String::new();
        while let Some(ev) = run.next_event().await {
            seen.push_str(&format!("{:?}\n", ev.kind));
        }
        let outcomes = run.wait().await.unwrap();
        let e = outcomes[0].result.as_ref().unwrap_err().to_string();
        assert!(e.contains("afile/<sensitive>"), "{e}");
        assert!(!seen.contains("hunter2"), "{seen}");
    }

    #[tokio::test]
    async fn an_unknown_builder_is_a_located_error_before_anything_runs() {
        let engine = Engine::new();
        let t = engine
            .load(Load::text(
                "t.pkr.hcl",
                "source \"nope\" \"x\" {}\nbuild {\n  sources = [\"source.nope.x\"]\n}\n",
            ))
            .unwrap();
        let e = engine.start(&t, Options::default()).unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
    }
}
