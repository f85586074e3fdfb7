//! The orchestrator: validates every plugin of a plan, then runs one build per (build block x
//! source), in parallel up to a limit, each with its provisioners and post-processor chains.

use crate::artifact::Artifact;
use crate::communicator::Communicator;
use crate::config::{Diagnostic, Diagnostics};
use crate::error::BuildError;
use crate::event::{ArtifactInfo, EventKind, Events};
use crate::operator::{Access, FailureChoice, OperatorLink};
use crate::plan::{BuildPlan, PlannedBuild, PluginSpec, ProvisionerSpec};
use crate::plugin::{BuildContext, BuildInfo, GeneratedData, Hook, OnError};
use crate::registry::Registry;
use async_trait::async_trait;
use globset::{Glob, GlobMatcher};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Run-wide options from the command line or the embedding program.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `-only` globs over build names.
    pub only: Vec<String>,
    /// `-except` globs over build names.
    pub except: Vec<String>,
    /// `-parallel-builds`; 0 means unlimited.
    pub parallel_builds: usize,
    /// `-on-error`.
    pub on_error: OnError,
    /// `-force`.
    pub force: bool,
    /// This run's UUID.
    pub run_uuid: String,
    /// Where builders cache downloads (ISOs, disk images); `None` means `./packer_cache`.
    pub cache_dir: Option<std::path::PathBuf>,
    /// The run's cleanup journal (the default records nothing).
    pub journal: crate::journal::Journal,
    /// `-debug`: one build at a time, pausing for the operator between steps.
    pub debug: bool,
    /// Who answers `-on-error=ask`, `-debug` pauses and `breakpoint`s (`None`: no one; pauses
    /// end at once and a failed step is cleaned up).
    pub operator: Option<Arc<dyn crate::operator::Operator>>,
}

/// How one build ended.
#[derive(Debug)]
pub struct BuildOutcome {
    /// The build's name.
    pub name: String,
    /// Its kept artifacts, or why it failed.
    pub result: Result<Vec<Arc<dyn Artifact>>, BuildError>,
    /// How long it took.
    pub elapsed: Duration,
}

/// Runs build plans against a registry, reporting on an event stream.
#[derive(Debug, Clone)]
pub struct Orchestrator {
    registry: Arc<Registry>,
    events: Events,
}

fn globs(patterns: &[String]) -> Result<Vec<GlobMatcher>, Diagnostics> {
    patterns
        .iter()
        .map(|p| {
            Glob::new(p).map(|g| g.compile_matcher()).map_err(|e| {
                Diagnostic::error("Invalid -only/-except pattern", format!("{p:?}: {e}")).into()
            })
        })
        .collect()
}

/// At most this many distinct diagnostics are reported by `validate`.
const MAX_DIAGNOSTICS: usize = 50;

/// The diagnostics of all builds, each distinct one once: one that several builds share names
/// them (the first few, and how many more), and past [`MAX_DIAGNOSTICS`] only a count is given.
fn dedup(per_build: Vec<(String, Diagnostics)>) -> Diagnostics {
    let total = per_build.len();
    let mut groups: Vec<(Diagnostic, Vec<String>)> = Vec::new();
    for (build, diags) in per_build {
        for d in diags.0 {
            match groups.iter_mut().find(|(g, _)| *g == d) {
                Some((_, builds)) => {
                    if !builds.contains(&build) {
                        builds.push(build.clone());
                    }
                }
                None => groups.push((d, vec![build.clone()])),
            }
        }
    }
    // Errors and warnings are capped apart: warnings never take an error's place, and never
    // fail the run.
    let (errors, warnings): (Vec<_>, Vec<_>) = groups
        .into_iter()
        .partition(|(d, _)| d.severity == crate::config::Severity::Error);
    let (distinct, distinct_warnings) = (errors.len(), warnings.len());
    let mut out = Diagnostics::default();
    let shown = errors
        .into_iter()
        .take(MAX_DIAGNOSTICS)
        .chain(warnings.into_iter().take(MAX_DIAGNOSTICS));
    for (mut d, builds) in shown {
        if builds.len() > 1 && total > 1 {
            let shown: Vec<&str> = builds.iter().take(5).map(String::as_str).collect();
            let more = builds.len() - shown.len();
            d.detail.push_str(&format!(
                "\n\n(In {} builds: {}{}.)",
                builds.len(),
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        out.push(d);
    }
    if distinct > MAX_DIAGNOSTICS {
        out.push(Diagnostic::error(
            "Too many errors",
            format!(
                "{} more distinct problems were found and are not shown; fix the ones above first.",
                distinct - MAX_DIAGNOSTICS
            ),
        ));
    }
    if distinct_warnings > MAX_DIAGNOSTICS {
        out.push(Diagnostic::warning(
            "Too many warnings",
            format!(
                "{} more distinct warnings are not shown.",
                distinct_warnings - MAX_DIAGNOSTICS
            ),
        ));
    }
    out
}

/// True when a build named `name` (source `source_ref`) is selected by `only` / `except`.
fn selected(only: &[GlobMatcher], except: &[GlobMatcher], names: &[&str]) -> bool {
    let hit = |gs: &[GlobMatcher]| gs.iter().any(|g| names.iter().any(|n| g.is_match(n)));
    (only.is_empty() || hit(only)) && !hit(except)
}

fn matches_meta(list: &[String], build: &PlannedBuild) -> bool {
    // As Packer: an HCL2 build's plugins match its source (`type.name`), never the build
    // block's name; a legacy JSON build (named by its builder) matches that name.
    let names = if build.name == build.source_name {
        [build.name.clone()]
    } else {
        [build.source_ref()]
    };
    // Exactly, as Packer's OnlyExcept.Skip: no globs, and `source.qemu.a` never matches.
    list.iter().any(|p| names.iter().any(|n| n == p))
}

/// Whether a plugin with `only` / `except` meta-arguments applies to `build`.
#[must_use]
pub fn applies(only: &[String], except: &[String], build: &PlannedBuild) -> bool {
    (only.is_empty() || matches_meta(only, build)) && !matches_meta(except, build)
}

impl Orchestrator {
    /// An orchestrator over `registry`, reporting to `events`.
    #[must_use]
    pub fn new(registry: Registry, events: Events) -> Self {
        Orchestrator {
            registry: Arc::new(registry),
            events,
        }
    }

    /// The builds `opts` selects, in plan order.
    ///
    /// # Errors
    /// Invalid glob patterns.
    pub fn select<'p>(
        &self,
        plan: &'p BuildPlan,
        opts: &RunOptions,
    ) -> Result<Vec<&'p PlannedBuild>, Diagnostics> {
        let (only, except) = (globs(&opts.only)?, globs(&opts.except)?);
        Ok(plan
            .builds
            .iter()
            .filter(|b| selected(&only, &except, &[b.name.as_str()]))
            .collect())
    }

    /// Packer's warnings (HCL2 templates) when `-only` has more patterns than builds it matched,
    /// or `-except` matched no build, with the names it could have matched.
    #[must_use]
    pub fn filter_warnings(plan: &BuildPlan, opts: &RunOptions) -> Diagnostics {
        let (Ok(only), Ok(except)) = (globs(&opts.only), globs(&opts.except)) else {
            return Diagnostics::default();
        };
        let hit = |gs: &[GlobMatcher], n: &str| gs.iter().any(|g| g.is_match(n));
        let mut only_matches = 0;
        let mut except_matches = 0;
        for b in &plan.builds {
            if !only.is_empty() {
                if !hit(&only, &b.name) {
                    continue;
                }
                only_matches += 1;
            }
            if hit(&except, &b.name) {
                except_matches += 1;
                continue;
            }
            // As Packer, a post-processor that -except drops counts as a match too.
            except_matches += b
                .post_processors
                .iter()
                .flatten()
                .filter(|p| hit(&except, p.name.as_deref().unwrap_or(&p.plugin.kind)))
                .count();
        }
        let names: Vec<&str> = plan.builds.iter().map(|b| b.name.as_str()).collect();
        let detail = format!(
            "Possible build names: [{}].\nThese could also be matched with a glob pattern like: 'happycloud.*'",
            names.join(" ")
        );
        let mut d = Diagnostics::default();
        if opts.only.len() > only_matches {
            d.push(Diagnostic::warning(
                "an 'only' option was passed, but not all matches were found for the given build.",
                detail.clone(),
            ));
        }
        if opts.except.len() > except_matches {
            d.push(Diagnostic::warning(
                "an 'except' option was passed, but did not match any build.",
                detail,
            ));
        }
        d
    }

    /// `build` as `-except` leaves it: a post-processor whose name (its `name`, or its type when
    /// it has none) matches an `-except` pattern is skipped with the rest of its chain, as
    /// Packer does.
    fn without_excepted(build: &PlannedBuild, except: &[GlobMatcher]) -> PlannedBuild {
        let mut b = build.clone();
        if except.is_empty() {
            return b;
        }
        for chain in &mut b.post_processors {
            if let Some(cut) = chain.iter().position(|p| {
                let name = p.name.as_deref().unwrap_or(&p.plugin.kind);
                except.iter().any(|g| g.is_match(name))
            }) {
                chain.truncate(cut);
            }
        }
        b.post_processors.retain(|c| !c.is_empty());
        b
    }

    fn info(build: &PlannedBuild, plan: &BuildPlan, opts: &RunOptions) -> BuildInfo {
        BuildInfo {
            name: build.name.clone(),
            source_type: build.source_type.clone(),
            source_name: build.source_name.clone(),
            build_block_name: build.build_block_name.clone(),
            run_uuid: opts.run_uuid.clone(),
            on_error: opts.on_error,
            force: opts.force,
            debug: opts.debug,
            template_dir: plan.template_dir.clone(),
            cache_dir: opts
                .cache_dir
                .clone()
                .unwrap_or_else(|| "packer_cache".into()),
            generated_names: Vec::new(),
            generated: GeneratedData::new(),
        }
    }

    fn unknown_type(spec: &PluginSpec, what: &str, names: Vec<&str>) -> Diagnostic {
        let mut detail = format!("Unknown {what} type {:?}.", spec.kind);
        if let Some(s) = crate::config::suggest(&spec.kind, names.iter().copied()) {
            detail.push_str(&format!(" Did you mean {s:?}?"));
        }
        detail.push_str(&format!(" Known types: {}.", names.join(", ")));
        if spec.kind == "amazon-ebs" {
            detail.push_str(" This kiln was built without it: build Kiln with its default features (cargo install, or cargo build --release).");
        }
        Diagnostic::error(format!("Unknown {what} type"), detail).at(spec.location.clone())
    }

    /// Decodes and validates every plugin of the selected builds without running anything.
    /// Returns warnings.
    ///
    /// # Errors
    /// All problems found, together.
    pub fn validate(
        &self,
        plan: &BuildPlan,
        opts: &RunOptions,
    ) -> Result<Diagnostics, Diagnostics> {
        let warn = |ws: Vec<String>, spec: &PluginSpec, diags: &mut Diagnostics| {
            for w in ws {
                diags.push(
                    Diagnostic::warning(format!("{} configuration", spec.kind), w)
                        .at(spec.location.clone()),
                );
            }
        };
        let selected = self.select(plan, opts)?;
        let except = globs(&opts.except)?;
        // Each build's diagnostics, then the same ones across builds said once (see `dedup`).
        let mut per_build: Vec<(String, Diagnostics)> = Vec::new();
        for build in &selected {
            // A post-processor `-except` names is never started, so it is not checked either.
            let build = &Self::without_excepted(build, &except);
            let mut diags = Diagnostics::default();
            let mut info = Self::info(build, plan, opts);
            match self.registry.new_builder(&build.builder.kind) {
                None => diags.push(Self::unknown_type(
                    &build.builder,
                    "builder (source)",
                    self.registry.builder_names().collect(),
                )),
                Some(mut b) => match build.builder.body.evaluate(&info, None) {
                    Err(e) => diags.extend(e),
                    Ok(cfg) => match b.prepare(&cfg, &info) {
                        Ok(w) => {
                            warn(w, &build.builder, &mut diags);
                            info.generated_names = b.generated_names();
                        }
                        Err(e) => diags.extend(e),
                    },
                },
            }
            // Plugins that `only` / `except` leave out of this build are not prepared for it, as
            // in Packer (their settings may not even render for it).
            for p in build
                .provisioners
                .iter()
                .filter(|p| applies(&p.only, &p.except, build))
                .chain(build.error_cleanup.as_ref())
            {
                match self.registry.new_provisioner(&p.plugin.kind) {
                    None => diags.push(Self::unknown_type(
                        &p.plugin,
                        "provisioner",
                        self.registry.provisioner_names().collect(),
                    )),
                    Some(mut prov) => match p.plugin.body.evaluate(&info, None) {
                        Err(e) => diags.extend(e),
                        Ok(cfg) => match prov.prepare(&cfg, &info) {
                            Ok(w) => warn(w, &p.plugin, &mut diags),
                            Err(e) => diags.extend(e),
                        },
                    },
                }
            }
            for pp in build
                .post_processors
                .iter()
                .flatten()
                .filter(|p| applies(&p.only, &p.except, build))
            {
                match self.registry.new_post_processor(&pp.plugin.kind) {
                    None => diags.push(Self::unknown_type(
                        &pp.plugin,
                        "post-processor",
                        self.registry.post_processor_names().collect(),
                    )),
                    Some(mut p) => match pp.plugin.body.evaluate(&info, None) {
                        Err(e) => diags.extend(e),
                        Ok(cfg) => match p.configure(&cfg, &info) {
                            Ok(w) => warn(w, &pp.plugin, &mut diags),
                            Err(e) => diags.extend(e),
                        },
                    },
                }
            }
            per_build.push((build.name.clone(), diags));
        }
        // A plugin's message may quote a setting made from a sensitive variable.
        for secret in &plan.secrets {
            self.events.secrets().add(secret);
        }
        let diags = dedup(per_build).scrubbed(self.events.secrets());
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(diags)
        }
    }

    /// Validates, then runs the selected builds; one outcome per build, in plan order.
    ///
    /// # Errors
    /// Validation errors; build failures are reported in the outcomes instead.
    pub async fn run(
        &self,
        plan: Arc<BuildPlan>,
        opts: &RunOptions,
        cancel: CancellationToken,
    ) -> Result<Vec<BuildOutcome>, Diagnostics> {
        self.validate(&plan, opts)?;
        self.run_validated(plan, opts, cancel).await
    }

    /// Runs the selected builds of a plan that [`Orchestrator::validate`] already accepted,
    /// without validating it again.
    ///
    /// # Errors
    /// Invalid `-only`/`-except` patterns; build failures are reported in the outcomes.
    pub async fn run_validated(
        &self,
        plan: Arc<BuildPlan>,
        opts: &RunOptions,
        cancel: CancellationToken,
    ) -> Result<Vec<BuildOutcome>, Diagnostics> {
        for s in &plan.secrets {
            self.events.secrets().add(s);
        }
        let selected: Vec<usize> = {
            let chosen = self.select(&plan, opts)?;
            plan.builds
                .iter()
                .enumerate()
                .filter(|(_, b)| chosen.iter().any(|c| std::ptr::eq(*c, *b)))
                .map(|(i, _)| i)
                .collect()
        };
        let limit = if opts.debug {
            1
        } else if opts.parallel_builds == 0 {
            usize::MAX >> 4
        } else {
            opts.parallel_builds
        };
        let sem = Arc::new(tokio::sync::Semaphore::new(limit));
        let except = globs(&opts.except)?;
        let mut handles = Vec::new();
        for i in selected {
            let build = Self::without_excepted(&plan.builds[i], &except);
            let (plan, sem, this, cancel, journal, operator) = (
                plan.clone(),
                sem.clone(),
                self.clone(),
                cancel.clone(),
                opts.journal.clone(),
                opts.operator.clone(),
            );
            let info = Arc::new(Self::info(&plan.builds[i], &plan, opts));
            // Taken here, in plan order, so that -parallel-builds=1 runs builds in template order.
            let permit = sem.acquire_owned().await;
            // At error level, so that every log level keeps it (the per-build logs route by it).
            let span = tracing::error_span!("build", build = %plan.builds[i].name);
            handles.push(tokio::spawn(tracing::Instrument::instrument(
                async move {
                    let _permit = permit;
                    let build = &build;
                    let ctx = BuildContext {
                        info,
                        ui: this.events.ui(&build.name),
                        cancel,
                        journal: journal.for_build(&build.name),
                        operator: operator.map_or_else(Default::default, OperatorLink::new),
                    };
                    let start = Instant::now();
                    this.events.emit(&build.name, EventKind::BuildStarted);
                    let result = this.run_build(&ctx, build).await;
                    let elapsed = start.elapsed();
                    let artifacts = result
                        .as_ref()
                        .map(|a| {
                            a.iter()
                                .map(|a| ArtifactInfo {
                                    builder_id: a.builder_id(),
                                    id: a.id(),
                                    string: a.string(),
                                    files: a.files(),
                                    catalog: a.state("catalog").unwrap_or_default(),
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    this.events.emit(
                        &build.name,
                        EventKind::BuildFinished {
                            error: result.as_ref().err().map(ToString::to_string),
                            elapsed,
                            artifacts,
                        },
                    );
                    BuildOutcome {
                        name: build.name.clone(),
                        // What the embedding program gets is as free of secrets as the events.
                        result: result.map_err(|e| e.scrubbed(this.events.secrets())),
                        elapsed,
                    }
                },
                span,
            )));
        }
        let mut outcomes = Vec::new();
        for h in handles {
            match h.await {
                Ok(o) => outcomes.push(o),
                Err(e) => outcomes.push(BuildOutcome {
                    name: "unknown".into(),
                    result: Err(BuildError::step(format!("build task failed: {e}"))),
                    elapsed: Duration::ZERO,
                }),
            }
        }
        Ok(outcomes)
    }

    async fn run_build(
        &self,
        ctx: &BuildContext,
        build: &PlannedBuild,
    ) -> Result<Vec<Arc<dyn Artifact>>, BuildError> {
        let mut builder = self
            .registry
            .new_builder(&build.builder.kind)
            .ok_or_else(|| BuildError::step(format!("unknown builder {}", build.builder.kind)))?;
        let cfg = build
            .builder
            .body
            .evaluate(&ctx.info, None)
            .map_err(BuildError::Config)?;
        builder
            .prepare(&cfg, &ctx.info)
            .map_err(BuildError::Config)?;
        // Provisioners and post-processors may use what the builder adds to `build.*`.
        let mut ctx = ctx.clone();
        let mut info = (*ctx.info).clone();
        info.generated_names = builder.generated_names();
        ctx.info = Arc::new(info);
        let hook = ProvisionHook {
            registry: self.registry.clone(),
            build: build.clone(),
        };
        let artifact = builder.run(&ctx, &hook).await?;
        let Some(artifact) = artifact else {
            return Ok(Vec::new());
        };
        // What the builder knows only once done (a committed image's id), for post-processors.
        if let Some(serde_json::Value::Object(data)) = artifact.state("generated_data") {
            let mut info = (*ctx.info).clone();
            for (k, v) in data {
                if let Some(v) = v.as_str() {
                    info.generated.insert(k, v.to_string());
                }
            }
            ctx.info = Arc::new(info);
        }
        self.post_process(&ctx, build, artifact).await
    }

    async fn post_process(
        &self,
        ctx: &BuildContext,
        build: &PlannedBuild,
        builder_artifact: Arc<dyn Artifact>,
    ) -> Result<Vec<Arc<dyn Artifact>>, BuildError> {
        let chains: Vec<Vec<_>> = build
            .post_processors
            .iter()
            .map(|c| {
                c.iter()
                    .filter(|p| applies(&p.only, &p.except, build))
                    .collect::<Vec<_>>()
            })
            .filter(|c| !c.is_empty())
            .collect();
        let mut keep_original = chains.is_empty();
        let mut results = Vec::new();
        let mut first_error = None;
        for chain in chains {
            let mut prior = builder_artifact.clone();
            let mut failed = false;
            for (i, spec) in chain.iter().enumerate() {
                if ctx.cancel.is_cancelled() {
                    return Err(BuildError::Cancelled);
                }
                let label = spec
                    .name
                    .clone()
                    .unwrap_or_else(|| spec.plugin.kind.clone());
                ctx.ui.say(format!("Running post-processor: {label}"));
                let mut pp = self
                    .registry
                    .new_post_processor(&spec.plugin.kind)
                    .ok_or_else(|| {
                        BuildError::step(format!("unknown post-processor {}", spec.plugin.kind))
                    })?;
                let cfg = spec
                    .plugin
                    .body
                    .evaluate(&ctx.info, None)
                    .map_err(BuildError::Config)?;
                pp.configure(&cfg, &ctx.info).map_err(BuildError::Config)?;
                let out = match pp.post_process(ctx, prior.clone()).await {
                    Ok(o) => o,
                    Err(e) => {
                        // A post-processor's own error says "Post-processor failed" already.
                        ctx.ui.error(match &e {
                            BuildError::PostProcessor { .. } => e.to_string(),
                            _ => format!("Post-processor failed: {e}"),
                        });
                        first_error.get_or_insert(e);
                        failed = true;
                        break;
                    }
                };
                let keep = match spec.keep_input_artifact {
                    Some(k) if !(out.force_keep && out.keep_input) => k,
                    _ => out.keep_input,
                };
                if i == 0 {
                    keep_original |= keep;
                } else if keep {
                    // As Packer: a kept intermediate artifact is one of the build's artifacts.
                    results.push(prior.clone());
                } else {
                    ctx.ui.say(format!(
                        "Deleting prior artifact from post-processor '{label}'"
                    ));
                    if let Err(e) = prior.destroy().await {
                        ctx.ui
                            .error(format!("Failed to delete prior artifact: {e}"));
                    }
                }
                prior = out.artifact;
            }
            if !failed {
                results.push(prior);
            }
        }
        if keep_original {
            // As Packer, an artifact a post-processor passes through (manifest, shell-local) is
            // listed again for each: what `-machine-readable` counts and the summary shows.
            results.insert(0, builder_artifact);
        } else {
            ctx.ui.say("Deleting original artifact for build");
            if let Err(e) = builder_artifact.destroy().await {
                ctx.ui
                    .error(format!("Failed to delete original artifact: {e}"));
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(results),
        }
    }
}

/// The hook builders call once the machine is reachable.
struct ProvisionHook {
    registry: Arc<Registry>,
    build: PlannedBuild,
}

impl ProvisionHook {
    async fn run_one(
        &self,
        ctx: &BuildContext,
        spec: &ProvisionerSpec,
        comm: &Arc<dyn Communicator>,
        data: &GeneratedData,
    ) -> Result<(), BuildError> {
        let cfg = spec
            .plugin
            .body
            .evaluate(&ctx.info, Some(data))
            .map_err(BuildError::Config)?;
        let attempts = spec.max_retries + 1;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut prov = self
                .registry
                .new_provisioner(&spec.plugin.kind)
                .ok_or_else(|| {
                    BuildError::step(format!("unknown provisioner {}", spec.plugin.kind))
                })?;
            prov.prepare(&cfg, &ctx.info).map_err(BuildError::Config)?;
            let fut = prov.provision(ctx, comm.clone(), data);
            let started = std::time::Instant::now();
            let r = match spec.timeout {
                Some(t) if !t.is_zero() => match tokio::time::timeout(t, fut).await {
                    Ok(r) => r,
                    Err(_) => Err(BuildError::Provisioner {
                        kind: spec.plugin.kind.clone(),
                        message: format!(
                            "Provisioner {} timed out after {}",
                            spec.plugin.kind,
                            crate::duration::human(t)
                        ),
                    }),
                },
                _ => fut.await,
            };
            tracing::debug!(
                build = %ctx.ui.build(),
                provisioner = %spec.plugin.kind,
                attempt,
                elapsed_ms = started.elapsed().as_millis(),
                result = %match &r {
                    Ok(()) => "ok".to_string(),
                    Err(e) => format!("error: {e}"),
                },
                "provisioner ended"
            );
            match r {
                Ok(()) => return Ok(()),
                Err(BuildError::Cancelled) => return Err(BuildError::Cancelled),
                Err(e) if attempt < attempts && !ctx.cancel.is_cancelled() => {
                    let delay = retry_delay(attempt, jitter_fraction());
                    ctx.ui.say(format!(
                        "Provisioner failed with {:?}, retrying with {} trie(s) left (in {})",
                        e.to_string(),
                        attempts - attempt,
                        crate::duration::human(delay)
                    ));
                    ctx.sleep(delay).await?;
                }
                Err(e) => {
                    if attempts > 1 {
                        ctx.ui.say("retry limit reached.");
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Runs the error-cleanup-provisioner, if the build has one.
    async fn error_cleanup(
        &self,
        ctx: &BuildContext,
        comm: &Arc<dyn Communicator>,
        data: &GeneratedData,
    ) {
        if let Some(cleanup) = &self.build.error_cleanup {
            ctx.ui.say(
                "Provisioning step had errors: Running the cleanup provisioner, if present...",
            );
            if let Err(ce) = self.run_one(ctx, cleanup, comm, data).await {
                ctx.ui
                    .error(format!("Error cleanup provisioner failed: {ce}"));
            }
        }
    }
}

/// The wait before retry number `attempt` (1 for the first) of a failed provisioner:
/// exponential from 2 s, at most 30 s, with "equal jitter": a random point of the upper half
/// (`fraction` in [0, 1)), so that parallel builds against one server spread out.
fn retry_delay(attempt: u32, fraction: f64) -> Duration {
    let full = Duration::from_secs(2)
        .saturating_mul(1 << attempt.saturating_sub(1).min(8))
        .min(Duration::from_secs(30));
    full / 2 + full.mul_f64(fraction.clamp(0.0, 1.0) / 2.0)
}

/// A number in [0, 1), different on every call (std's randomly keyed hasher, over a counter).
fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    #[allow(clippy::cast_precision_loss)]
    let f = (h.finish() >> 11) as f64 / (1u64 << 53) as f64;
    f
}

/// How to log in to the machine, from the values its builder generated.
fn access(data: &GeneratedData) -> Option<Access> {
    let non_empty = |k: &str| data.get(k).filter(|v| !v.is_empty()).cloned();
    if data.get("ConnType").map(String::as_str) == Some("docker") {
        return Some(Access {
            host: String::new(),
            port: String::new(),
            user: String::new(),
            private_key: None,
            key_file: None,
            password: false,
            command: Some(format!("docker exec -it {} /bin/sh", non_empty("ID")?)),
        });
    }
    if data.get("ConnType").map(String::as_str) != Some("ssh") {
        return None;
    }
    Some(Access {
        host: non_empty("Host")?,
        port: non_empty("Port").unwrap_or_else(|| "22".into()),
        user: non_empty("User")?,
        // A key the operator has as a file is named; only one Kiln holds alone is written out.
        private_key: non_empty("SSHPrivateKey").filter(|_| data.get("SSHPrivateKeyFile").is_none()),
        key_file: non_empty("SSHPrivateKeyFile"),
        password: non_empty("Password").is_some(),
        command: None,
    })
}

#[async_trait]
impl Hook for ProvisionHook {
    async fn provision(
        &self,
        ctx: &BuildContext,
        comm: Arc<dyn Communicator>,
        data: &GeneratedData,
    ) -> Result<(), BuildError> {
        for key in ["Password", "SSHPrivateKey", "WinRMPassword"] {
            if let Some(v) = data.get(key) {
                ctx.ui.add_secret(v);
            }
        }
        ctx.operator.set_access(access(data));
        for spec in &self.build.provisioners {
            if !applies(&spec.only, &spec.except, &self.build) {
                continue;
            }
            if ctx.info.debug {
                tokio::select! {
                    () = ctx.operator.pause(&ctx.ui, "Pausing before the next provisioner. Press enter to continue.") => {}
                    () = ctx.cancel.cancelled() => return Err(BuildError::Cancelled),
                }
            }
            if let Some(p) = spec.pause_before.filter(|p| !p.is_zero()) {
                ctx.ui.say(format!(
                    "Pausing {} before the next provisioner...",
                    crate::duration::go(p)
                ));
                ctx.sleep(p).await?;
            }
            loop {
                let e = match self.run_one(ctx, spec, &comm, data).await {
                    Ok(()) => break,
                    Err(e) => e,
                };
                if matches!(e, BuildError::Cancelled) {
                    return Err(e);
                }
                if spec.continue_on_error {
                    ctx.ui.error(format!(
                        "Provisioner {} failed, continuing (continue_on_error): {e}",
                        spec.plugin.kind
                    ));
                    break;
                }
                match ctx.info.on_error {
                    OnError::Abort => {}
                    OnError::Cleanup | OnError::RunCleanupProvisioner => {
                        self.error_cleanup(ctx, &comm, data).await;
                    }
                    OnError::Ask => {
                        // Asked here rather than by the step runner: a retry runs this
                        // provisioner again, not every provisioner from the first.
                        ctx.ui.error(e.to_string());
                        let what = format!("Provisioner '{}'", spec.plugin.kind);
                        let choice = tokio::select! {
                            c = ctx.operator.ask_about_failure(&ctx.ui, &what) => c,
                            () = ctx.cancel.cancelled() => return Err(BuildError::Cancelled),
                        };
                        if choice == FailureChoice::Retry {
                            ctx.ui
                                .say(format!("Retrying provisioner '{}'", spec.plugin.kind));
                            continue;
                        }
                        // Recorded first: the step runner must not ask again, even if what
                        // follows is interrupted.
                        ctx.operator.answered(choice);
                        if choice == FailureChoice::Cleanup {
                            self.error_cleanup(ctx, &comm, data).await;
                        }
                    }
                }
                return Err(e);
            }
        }
        ctx.operator.set_access(None);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_never_use_up_the_error_cap() {
        let mut d = Diagnostics::default();
        for i in 0..60 {
            d.push(Diagnostic::warning("Deprecated", format!("option {i}")));
        }
        d.push(Diagnostic::error("Invalid value", "one real error"));
        let out = dedup(vec![("qemu.a".into(), d)]);
        let errors: Vec<&Diagnostic> = out
            .0
            .iter()
            .filter(|d| d.severity == crate::config::Severity::Error)
            .collect();
        assert_eq!(errors.len(), 1, "{out}");
        assert_eq!(errors[0].detail, "one real error");
        let warnings = out.warnings();
        assert_eq!(warnings.len(), 51);
        assert_eq!(warnings[50].summary, "Too many warnings");
        assert_eq!(
            warnings[50].detail,
            "10 more distinct warnings are not shown."
        );
    }

    #[test]
    fn only_and_except_globs() {
        let g =
            |v: &[&str]| globs(&v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>()).unwrap();
        assert!(selected(&g(&["null.*"]), &[], &["null.a"]));
        assert!(!selected(&g(&["file.*"]), &[], &["null.a"]));
        assert!(!selected(&[], &g(&["*.a"]), &["null.a"]));
        assert!(selected(&[], &g(&["*.b"]), &["null.a"]));
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_up_to_30s() {
        let s = Duration::from_secs;
        assert_eq!(retry_delay(1, 0.0), s(1));
        assert_eq!(retry_delay(1, 0.999_999), Duration::from_micros(1_999_999));
        assert_eq!(retry_delay(2, 0.5), s(3));
        assert_eq!(retry_delay(3, 0.0), s(4));
        assert_eq!(retry_delay(5, 1.0), s(30));
        assert_eq!(retry_delay(50, 0.0), s(15));
        let f: Vec<f64> = (0..100).map(|_| jitter_fraction()).collect();
        assert!(f.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(f.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn access_comes_from_the_generated_ssh_values() {
        let mut d = GeneratedData::new();
        d.insert("ConnType".into(), "ssh".into());
        d.insert("Host".into(), "127.0.0.1".into());
        d.insert("Port".into(), "2222".into());
        d.insert("User".into(), "root".into());
        d.insert("Password".into(), String::new());
        let a = access(&d).unwrap();
        assert_eq!(
            (a.port.as_str(), a.private_key, a.password),
            ("2222", None, false)
        );
        d.insert("ConnType".into(), "none".into());
        assert!(access(&d).is_none());
    }
}
