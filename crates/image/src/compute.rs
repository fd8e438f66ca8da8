//! The in-process API compute uses ([`ferro_api::services::ImageApi`]),
//! with the same visibility rules as the HTTP API.

use std::collections::HashMap;
use std::path::PathBuf;

use async_trait::async_trait;
use ferro_api::services::{ImageApi, ImageInfo, NewImage, ServiceResult};
use ferro_api::time::now_micros;
use ferro_api::{AuthContext, CommonError};

use crate::api::common::{load, load_for_update};
use crate::api::data::store_result;
use crate::error::Error;
use crate::model::{set_attr, Image};
use crate::store::{images, members};
use crate::{policy, ImageService};

fn common(e: Error) -> CommonError {
    e.into_common()
}

impl ImageService {
    fn info(&self, img: &Image) -> ImageInfo {
        let has_data = matches!(img.status.as_str(), "active" | "deactivated");
        ImageInfo {
            id: img.id.clone(),
            name: img.name.clone(),
            status: img.status.clone(),
            disk_format: img.disk_format.clone(),
            container_format: img.container_format.clone(),
            size: img.size,
            min_disk: img.min_disk,
            min_ram: img.min_ram,
            owner: img.owner.clone(),
            visibility: img.visibility.clone(),
            data_path: has_data.then(|| self.data().path(&img.id)),
            properties: img.properties.clone(),
            created_at: img.created_at,
            updated_at: img.updated_at,
        }
    }
}

#[async_trait]
impl ImageApi for ImageService {
    async fn get_image(&self, ctx: &AuthContext, id: &str) -> ServiceResult<Option<ImageInfo>> {
        match load(self, ctx, id).await {
            Ok(img) => Ok(Some(self.info(&img))),
            Err(Error::Common(CommonError::NotFound(_))) => Ok(None),
            Err(e) => Err(common(e)),
        }
    }

    async fn list_images(
        &self,
        ctx: &AuthContext,
        ids: Option<&[String]>,
    ) -> ServiceResult<Vec<ImageInfo>> {
        let all = self.all_images().await.map_err(|e| common(e.into()))?;
        let memberships: HashMap<String, String> = match &ctx.project_id {
            Some(p) => members::of_member(self.db(), p)
                .await
                .map_err(|e| common(e.into()))?,
            None => HashMap::new(),
        };
        Ok(all
            .iter()
            .filter(|img| ids.is_none_or(|ids| ids.contains(&img.id)))
            .filter(|img| policy::can_see(ctx, img, memberships.get(&img.id).map(String::as_str)))
            .map(|img| self.info(img))
            .collect())
    }

    async fn create_image(&self, ctx: &AuthContext, new: NewImage) -> ServiceResult<ImageInfo> {
        policy::require_writer(ctx).map_err(common)?;
        let now = now_micros();
        let mut img = Image {
            id: uuid::Uuid::new_v4().to_string(),
            status: "queued".into(),
            visibility: "private".into(),
            owner: ctx.project_id.clone(),
            created_at: now,
            updated_at: now,
            ..Image::default()
        };
        let fields = [
            ("name", serde_json::json!(new.name)),
            ("disk_format", serde_json::json!(new.disk_format)),
            ("container_format", serde_json::json!(new.container_format)),
            ("min_disk", serde_json::json!(new.min_disk)),
            ("min_ram", serde_json::json!(new.min_ram)),
        ];
        for (k, v) in fields.iter() {
            set_attr(&mut img, ctx, k, v).map_err(common)?;
        }
        for (k, v) in &new.properties {
            let v = match v {
                serde_json::Value::String(_) => v.clone(),
                other => serde_json::Value::String(other.to_string()),
            };
            set_attr(&mut img, ctx, k, &v).map_err(common)?;
        }
        images::insert(self.db(), &img)
            .await
            .map_err(|e| common(e.into()))?;
        Ok(self.info(&img))
    }

    async fn upload_image_file(
        &self,
        ctx: &AuthContext,
        id: &str,
        path: PathBuf,
    ) -> ServiceResult<ImageInfo> {
        let img = load_for_update(self, ctx, id).await.map_err(common)?;
        if img.status != "queued" {
            return Err(CommonError::conflict(format!(
                "Image status transition from {} to saving is not allowed",
                img.status
            )));
        }
        let moved = images::transition(self.db(), id, "queued", "saving", now_micros())
            .await
            .map_err(|e| common(e.into()))?;
        if !moved {
            return Err(CommonError::conflict(format!(
                "Image {id} is already being uploaded"
            )));
        }
        let written = self.data().write_from_file(id, &path).await;
        store_result(self, id, written).await.map_err(common)?;
        let img = images::get(self.db(), id)
            .await
            .map_err(|e| common(e.into()))?
            .ok_or_else(|| CommonError::not_found(format!("No image found with ID {id}")))?;
        Ok(self.info(&img))
    }

    async fn delete_image(&self, ctx: &AuthContext, id: &str) -> ServiceResult<()> {
        let img = load_for_update(self, ctx, id).await.map_err(common)?;
        if img.protected {
            return Err(CommonError::forbidden(format!(
                "Image {id} is protected and cannot be deleted."
            )));
        }
        images::delete(self.db(), id)
            .await
            .map_err(|e| common(e.into()))?;
        self.data().remove(id).await;
        Ok(())
    }
}
