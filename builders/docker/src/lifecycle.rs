//! Catalog lifecycle effects on container images: `kiln images delete` removes the image (its
//! tags, then the image itself) from the engine. Deprecating and disabling have no counterpart
//! in an engine: they are the catalog's own record, and nothing is called.

use async_trait::async_trait;
use kiln_core::lifecycle::{ImageLifecycle, StoredArtifact, Transition};

/// The docker builder's and post-processors' image artifacts.
#[derive(Debug)]
pub struct DockerLifecycle;

/// What the catalog keeps of an image artifact (its `state("catalog")`).
pub(crate) fn catalog_state(id: &str, tags: &[String]) -> serde_json::Value {
    serde_json::json!({ "image_id": id, "tags": tags })
}

#[async_trait]
impl ImageLifecycle for DockerLifecycle {
    fn handles(&self, builder_id: &str) -> bool {
        [crate::post::TAG_ID, crate::post::IMPORT_ID].contains(&builder_id)
    }

    async fn apply(
        &self,
        a: &StoredArtifact,
        t: &Transition,
        calls: &mut Vec<String>,
    ) -> Result<(), String> {
        if !matches!(t, Transition::Delete) {
            return Ok(());
        }
        if !a.files.is_empty() {
            // An exported tarball: a local file, which the catalog archives itself.
            return Ok(());
        }
        let docker = crate::connect().await.map_err(|e| e.to_string())?;
        let mut names: Vec<String> = a.state["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let id = a.state["image_id"].as_str().unwrap_or(&a.id).to_string();
        names.push(id.clone());
        for name in names {
            // The image itself last, forced: other names it has (given outside Kiln) go with it.
            let force = name == id;
            match docker
                .remove_image(
                    &name,
                    Some(bollard::query_parameters::RemoveImageOptions {
                        force,
                        ..Default::default()
                    }),
                    None,
                )
                .await
            {
                Ok(_) => calls.push(format!("docker:ImageDelete {name}")),
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => {}
                Err(e) => {
                    return Err(format!(
                        "removing image {name}: {}",
                        crate::engine_message(&e)
                    ))
                }
            }
        }
        Ok(())
    }
}
