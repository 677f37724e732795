# Cloud Functions gen2, one per entry point of functions/index.ts, all from one source archive.

locals {
  # The Node.js runtime of every function: the GA runtime Google supports longest (see
  # terraform/RUNTIMES.md for the schedule; test/terraform checks it is accepted today).
  runtime = "nodejs24"

  # Entry point (exported name in functions/index.ts) -> Cloud Functions name.
  function_names = {
    nextVisit     = "ap-next-visit"
    nextVisitHttp = "ap-next-visit-http"
    processImage  = "ap-process-image"
    alertFanout   = "ap-alert-fanout"
    alertArchive  = "ap-alert-archive"
    filterAlerts  = "ap-filter-alerts"
    filterApi     = "ap-filter-api"
    # Template tiles: built from candidates, frozen; the operators' release.
    templateBuilder = "ap-template-builder"
    templateApi     = "ap-template-api"
  }

  # Pub/Sub-driven entry points and the topic each one's push subscription reads.
  pubsub_functions = {
    nextVisit       = { topic = "next-visit", topic_id = google_pubsub_topic.next_visit.id }
    processImage    = { topic = "raw-arrived", topic_id = google_pubsub_topic.raw_arrived.id }
    alertFanout     = { topic = "alert-batches", topic_id = google_pubsub_topic.alert_batches.id }
    filterAlerts    = { topic = "alerts", topic_id = google_pubsub_topic.alerts.id }
    templateBuilder = { topic = "template-candidates", topic_id = google_pubsub_topic.template_candidates.id }
  }

  # Sizes: processImage holds a 4k x 4k science image, its template and the difference (about
  # 1.5 GiB of planes) and runs one detector per instance; the rest are light.
  function_sizes = {
    nextVisit     = { memory = "2Gi", cpu = "1", max_instances = 50, min_instances = 0, concurrency = 4, timeout = var.function_timeout_seconds }
    nextVisitHttp = { memory = "2Gi", cpu = "1", max_instances = 10, min_instances = 0, concurrency = 4, timeout = 60 }
    processImage  = { memory = var.process_image_memory, cpu = var.process_image_cpu, max_instances = var.process_image_max_instances, min_instances = var.process_image_min_instances, concurrency = 1, timeout = var.function_timeout_seconds }
    alertFanout   = { memory = "1Gi", cpu = "1", max_instances = 50, min_instances = 0, concurrency = 8, timeout = var.function_timeout_seconds }
    alertArchive  = { memory = "512Mi", cpu = "1", max_instances = 20, min_instances = 0, concurrency = 80, timeout = 30 }
    filterAlerts  = { memory = "1Gi", cpu = "1", max_instances = 50, min_instances = 0, concurrency = 16, timeout = 60 }
    filterApi     = { memory = "1Gi", cpu = "1", max_instances = 10, min_instances = 0, concurrency = 8, timeout = 540 }
    # A build holds its inputs, then their warps: 12 inputs of 4k x 4k peak at ~4.8 GB (shared/template/README.md).
    templateBuilder = { memory = "8Gi", cpu = "2", max_instances = 20, min_instances = 0, concurrency = 1, timeout = var.function_timeout_seconds }
    templateApi     = { memory = "8Gi", cpu = "2", max_instances = 2, min_instances = 0, concurrency = 1, timeout = var.function_timeout_seconds }
  }

  function_env = {
    GOOGLE_CLOUD_PROJECT = var.project
    AP_BUCKET_PREFIX     = var.prefix
    AP_RAW_BUCKET        = google_storage_bucket.raw.name
    AP_TEMPLATES_BUCKET  = google_storage_bucket.templates.name
    AP_ALERTS_BUCKET     = google_storage_bucket.alerts.name
    AP_WORK_BUCKET       = google_storage_bucket.work.name
    AP_ORBITS_BUCKET     = google_storage_bucket.orbits.name
    AP_REFCATS_BUCKET    = google_storage_bucket.refcats.name
    AP_PIPELINE_CONFIG   = var.pipeline_config
    # filterApi verifies Google ID tokens issued for its own URL.
    AP_FILTER_AUDIENCE = "https://${var.region}-${var.project}.cloudfunctions.net/ap-filter-api"
    # templateApi verifies Google ID tokens for its URL and admits the operators only.
    AP_TEMPLATE_AUDIENCE         = "https://${var.region}-${var.project}.cloudfunctions.net/ap-template-api"
    AP_TEMPLATE_OPERATORS        = join(",", [for p in var.template_operators : element(split(":", p), 1)])
    AP_TEMPLATE_CONFIG           = var.template_config
    AP_TEMPLATE_MIN_CANDIDATES   = tostring(var.template_min_candidates)
    AP_TEMPLATE_MIN_TILE_OVERLAP = var.template_min_tile_overlap
    # The function gives up (dead letter with reason) before the subscription's own policy, and
    # stops before the platform's timeout kills it.
    AP_MAX_ATTEMPTS     = var.max_delivery_attempts - 1
    AP_DEADLINE_SECONDS = floor(var.function_timeout_seconds * 0.8)
    # filterAlerts has its own, shorter timeout; its deadline follows it the same way.
    AP_FILTER_DEADLINE_SECONDS = floor(local.function_sizes.filterAlerts.timeout * 0.8)
  }
}

# The source archive is .deploy/source/, staged by `npm run build` from the explicit list of
# scripts/deploy-files.js: compiled JavaScript (dist/), model weights (models/), alert schemas
# (schema/), package.json and package-lock.json. Nothing else of the checkout is uploaded.
data "archive_file" "source" {
  type        = "zip"
  source_dir  = "${path.module}/../.deploy/source"
  output_path = "${path.module}/.terraform/source.zip"
}

resource "google_storage_bucket_object" "source" {
  name   = "source-${data.archive_file.source.output_md5}.zip"
  bucket = google_storage_bucket.source.name
  source = data.archive_file.source.output_path
}

resource "google_cloudfunctions2_function" "fn" {
  for_each = local.function_names
  name     = each.value
  location = var.region

  build_config {
    runtime     = local.runtime
    entry_point = each.key
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    available_memory                 = local.function_sizes[each.key].memory
    available_cpu                    = local.function_sizes[each.key].cpu
    max_instance_count               = local.function_sizes[each.key].max_instances
    min_instance_count               = local.function_sizes[each.key].min_instances
    max_instance_request_concurrency = local.function_sizes[each.key].concurrency
    timeout_seconds                  = local.function_sizes[each.key].timeout
    service_account_email            = google_service_account.fn[each.key].email
    ingress_settings                 = contains(keys(local.pubsub_functions), each.key) ? "ALLOW_INTERNAL_ONLY" : "ALLOW_ALL"
    environment_variables = merge(local.function_env, {
      AP_DEAD_LETTER_TOPIC = contains(keys(local.pubsub_functions), each.key) ? "${local.pubsub_functions[each.key].topic}-dead-letter" : ""
    })
  }

  depends_on = [google_project_service.apis]
}

# Pub/Sub pushes as the pusher account, which alone may invoke the Pub/Sub-driven functions.
resource "google_cloud_run_service_iam_member" "pusher_invokes" {
  for_each = local.pubsub_functions
  location = var.region
  service  = google_cloudfunctions2_function.fn[each.key].service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pusher.email}"
}

resource "google_cloud_run_service_iam_member" "scheduler_invokes_next_visit_http" {
  for_each = toset(var.next_visit_publishers)
  location = var.region
  service  = google_cloudfunctions2_function.fn["nextVisitHttp"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

resource "google_cloud_run_service_iam_member" "brokers_invoke_archive" {
  for_each = var.broker_principals
  location = var.region
  service  = google_cloudfunctions2_function.fn["alertArchive"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

resource "google_cloud_run_service_iam_member" "operators_invoke_template_api" {
  for_each = toset(var.template_operators)
  location = var.region
  service  = google_cloudfunctions2_function.fn["templateApi"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}
