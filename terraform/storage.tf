# Buckets of docs/contracts.md: raw images, templates, the alert archive; plus the
# pipeline's working bucket (preload cache, alert batches) and the functions' source archives.

resource "google_storage_bucket" "raw" {
  name                        = "${var.prefix}-raw"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  lifecycle_rule {
    condition {
      age = var.raw_retention_days
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket" "templates" {
  name                        = "${var.prefix}-templates"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  depends_on                  = [google_project_service.apis]
}

# The alert archive is what brokers fetch alerts back from: `terraform destroy` deletes it with its
# contents only when var.destroy_alert_archive says so (else destroy stops at a non-empty archive).
resource "google_storage_bucket" "alerts" {
  name                        = "${var.prefix}-alerts"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.destroy_alert_archive
  depends_on                  = [google_project_service.apis]
}

# Orbital elements of known solar-system objects (CSV, shared/solar/README.md), read at preload.
resource "google_storage_bucket" "orbits" {
  name                        = "${var.prefix}-orbits"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  depends_on                  = [google_project_service.apis]
}

# Reference catalogs for photometric zero points: one FITS binary table (or CSV) of ra, dec and
# <band>_mag per HEALPix nested order-8 tile, `hpx8-{tile}.fits` (docs/contracts.md); read at preload.
resource "google_storage_bucket" "refcats" {
  name                        = "${var.prefix}-refcats"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  depends_on                  = [google_project_service.apis]
}

resource "google_storage_bucket" "work" {
  name                        = "${var.prefix}-work"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true

  # Preloads and alert batches are only needed for the night they serve.
  lifecycle_rule {
    condition {
      age = 3
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket" "source" {
  name                        = "${var.prefix}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = true
  depends_on                  = [google_project_service.apis]
}

# Object-finalize notifications of the raw bucket feed topic raw-arrived (JSON_API_V1 payload).
resource "google_storage_notification" "raw_arrived" {
  bucket         = google_storage_bucket.raw.name
  payload_format = "JSON_API_V1"
  topic          = google_pubsub_topic.raw_arrived.id
  event_types    = ["OBJECT_FINALIZE"]
  depends_on     = [google_pubsub_topic_iam_member.gcs_publishes_raw_arrived]
}

resource "google_pubsub_topic_iam_member" "gcs_publishes_raw_arrived" {
  topic  = google_pubsub_topic.raw_arrived.id
  role   = "roles/pubsub.publisher"
  member = "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}"
}
