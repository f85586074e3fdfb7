//! Plugin type names to constructors. The orchestrator knows plugins only through this, so a
//! library user can register their own types next to the built-in ones.

use crate::plugin::{Builder, PostProcessor, Provisioner};
use std::collections::BTreeMap;
use std::sync::Arc;

type Ctor<T> = Arc<dyn Fn() -> Box<T> + Send + Sync>;

/// A data source: its evaluated arguments (a JSON object) to its outputs. It runs while the
/// template loads, outside any async runtime.
pub type DataSourceFn =
    Arc<dyn Fn(&serde_json::Value) -> Result<serde_json::Value, String> + Send + Sync>;

/// Data source types provided by plugin crates, by name (the template crate has its own).
#[derive(Clone, Default)]
pub struct DataSources(pub BTreeMap<String, DataSourceFn>);

impl std::fmt::Debug for DataSources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// The plugin types available to a run.
#[derive(Clone, Default)]
pub struct Registry {
    builders: BTreeMap<String, Ctor<dyn Builder>>,
    provisioners: BTreeMap<String, Ctor<dyn Provisioner>>,
    post_processors: BTreeMap<String, Ctor<dyn PostProcessor>>,
    data_sources: DataSources,
    cleaners: BTreeMap<String, Arc<dyn crate::journal::Cleaner>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("builders", &self.builders.keys().collect::<Vec<_>>())
            .field(
                "provisioners",
                &self.provisioners.keys().collect::<Vec<_>>(),
            )
            .field(
                "post_processors",
                &self.post_processors.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a builder type (a source type, e.g. `null`).
    pub fn builder(
        &mut self,
        name: &str,
        ctor: impl Fn() -> Box<dyn Builder> + Send + Sync + 'static,
    ) -> &mut Self {
        self.builders.insert(name.to_string(), Arc::new(ctor));
        self
    }

    /// Registers a provisioner type.
    pub fn provisioner(
        &mut self,
        name: &str,
        ctor: impl Fn() -> Box<dyn Provisioner> + Send + Sync + 'static,
    ) -> &mut Self {
        self.provisioners.insert(name.to_string(), Arc::new(ctor));
        self
    }

    /// Registers a post-processor type.
    pub fn post_processor(
        &mut self,
        name: &str,
        ctor: impl Fn() -> Box<dyn PostProcessor> + Send + Sync + 'static,
    ) -> &mut Self {
        self.post_processors
            .insert(name.to_string(), Arc::new(ctor));
        self
    }

    /// Registers a data source type.
    pub fn data_source(
        &mut self,
        name: &str,
        f: impl Fn(&serde_json::Value) -> Result<serde_json::Value, String> + Send + Sync + 'static,
    ) -> &mut Self {
        self.data_sources.0.insert(name.to_string(), Arc::new(f));
        self
    }

    /// Registers the cleaner of one cloud's journaled resources (see [`crate::journal`]).
    pub fn cleaner(&mut self, provider: &str, c: Arc<dyn crate::journal::Cleaner>) -> &mut Self {
        self.cleaners.insert(provider.to_string(), c);
        self
    }

    /// The cleaner registered for `provider`.
    #[must_use]
    pub fn cleaner_for(&self, provider: &str) -> Option<Arc<dyn crate::journal::Cleaner>> {
        self.cleaners.get(provider).cloned()
    }

    /// The registered data source types, for the template loader.
    #[must_use]
    pub fn data_sources(&self) -> DataSources {
        self.data_sources.clone()
    }

    /// A new builder of type `name`.
    #[must_use]
    pub fn new_builder(&self, name: &str) -> Option<Box<dyn Builder>> {
        self.builders.get(name).map(|c| c())
    }

    /// A new provisioner of type `name`.
    #[must_use]
    pub fn new_provisioner(&self, name: &str) -> Option<Box<dyn Provisioner>> {
        self.provisioners.get(name).map(|c| c())
    }

    /// A new post-processor of type `name`.
    #[must_use]
    pub fn new_post_processor(&self, name: &str) -> Option<Box<dyn PostProcessor>> {
        self.post_processors.get(name).map(|c| c())
    }

    /// Registered builder names.
    pub fn builder_names(&self) -> impl Iterator<Item = &str> {
        self.builders.keys().map(String::as_str)
    }

    /// Registered provisioner names.
    pub fn provisioner_names(&self) -> impl Iterator<Item = &str> {
        self.provisioners.keys().map(String::as_str)
    }

    /// Registered post-processor names.
    pub fn post_processor_names(&self) -> impl Iterator<Item = &str> {
        self.post_processors.keys().map(String::as_str)
    }
}
