# Least privilege: one service account per function holding only the roles its code needs,
# granted on the one bucket or topic it touches; no primitive roles anywhere.

locals {
  # [function, bucket key, role]
  bucket_grants = [
    # Writes are create-only (ifGenerationMatch: 0): objectCreator, never objectUser (delete, overwrite).
    ["nextVisit", "templates", "roles/storage.objectViewer"],
    ["nextVisit", "work", "roles/storage.objectCreator"],
    # Reads the prepared template an earlier visit of the footprint kept (functions/preload.ts).
    ["nextVisit", "work", "roles/storage.objectViewer"],
    ["nextVisit", "orbits", "roles/storage.objectViewer"],
    ["nextVisit", "refcats", "roles/storage.objectViewer"],
    ["nextVisitHttp", "templates", "roles/storage.objectViewer"],
    ["nextVisitHttp", "work", "roles/storage.objectCreator"],
    ["nextVisitHttp", "work", "roles/storage.objectViewer"],
    ["nextVisitHttp", "orbits", "roles/storage.objectViewer"],
    ["nextVisitHttp", "refcats", "roles/storage.objectViewer"],
    ["processImage", "raw", "roles/storage.objectViewer"],
    ["processImage", "templates", "roles/storage.objectViewer"],
    ["processImage", "work", "roles/storage.objectCreator"],
    ["processImage", "work", "roles/storage.objectViewer"],
    ["processImage", "orbits", "roles/storage.objectViewer"],
    ["alertFanout", "work", "roles/storage.objectViewer"],
    ["alertFanout", "alerts", "roles/storage.objectCreator"],
    # Read only when a create-only write finds the id taken: a different alert there is an error.
    ["alertFanout", "alerts", "roles/storage.objectViewer"],
    ["alertArchive", "alerts", "roles/storage.objectViewer"],
    ["filterApi", "alerts", "roles/storage.objectViewer"],
    ["templateBuilder", "raw", "roles/storage.objectViewer"],
    # Create-only: a frozen template cannot be overwritten by the builder, by construction.
    ["templateBuilder", "templates", "roles/storage.objectCreator"],
    ["templateBuilder", "templates", "roles/storage.objectViewer"],
    ["templateApi", "raw", "roles/storage.objectViewer"],
    # A release replaces the frozen template: the one grant that may overwrite it.
    ["templateApi", "templates", "roles/storage.objectUser"],
  ]

  # [function, topic name, role]
  topic_grants = [
    ["nextVisit", "next-visit-dead-letter", "roles/pubsub.publisher"],
    ["processImage", "alert-batches", "roles/pubsub.publisher"],
    ["processImage", "raw-arrived-dead-letter", "roles/pubsub.publisher"],
    ["alertFanout", "alerts", "roles/pubsub.publisher"],
    ["alertFanout", "alert-batches-dead-letter", "roles/pubsub.publisher"],
    ["filterAlerts", "filtered-alerts", "roles/pubsub.publisher"],
    ["filterAlerts", "alerts-dead-letter", "roles/pubsub.publisher"],
    ["filterApi", "filtered-alerts", "roles/pubsub.publisher"],
    ["processImage", "template-candidates", "roles/pubsub.publisher"],
    # Build requests (attribute kind=build): one tile built a delivery (functions/template-builder.ts).
    ["templateBuilder", "template-candidates", "roles/pubsub.publisher"],
    ["templateBuilder", "template-candidates-dead-letter", "roles/pubsub.publisher"],
  ]

  # [function, project role]: Firestore (the APDB) has no finer-grained resource to grant on.
  project_grants = [
    ["nextVisit", "roles/datastore.viewer"],
    ["nextVisitHttp", "roles/datastore.viewer"],
    ["processImage", "roles/datastore.user"],
    ["alertFanout", "roles/datastore.user"],
    ["nextVisit", "roles/logging.logWriter"],
    ["nextVisitHttp", "roles/logging.logWriter"],
    ["processImage", "roles/logging.logWriter"],
    ["alertFanout", "roles/logging.logWriter"],
    ["alertArchive", "roles/logging.logWriter"],
    # Reads the filters; counts each filter's matches per visit (FilterMatchCount, transactions).
    ["filterAlerts", "roles/datastore.user"],
    ["filterApi", "roles/datastore.user"],
    ["filterAlerts", "roles/logging.logWriter"],
    ["filterApi", "roles/logging.logWriter"],
    # Creates and deletes each filter's subscription on filtered-alerts and grants its owner (filtering.tf).
    ["filterApi", google_project_iam_custom_role.filter_streams.id],
    ["templateBuilder", "roles/datastore.user"],
    ["templateBuilder", "roles/logging.logWriter"],
    ["templateApi", "roles/datastore.user"],
    ["templateApi", "roles/logging.logWriter"],
  ]

  buckets = {
    raw       = google_storage_bucket.raw.name
    templates = google_storage_bucket.templates.name
    alerts    = google_storage_bucket.alerts.name
    work      = google_storage_bucket.work.name
    orbits    = google_storage_bucket.orbits.name
    refcats   = google_storage_bucket.refcats.name
  }

  topics = merge(
    {
      "next-visit"          = google_pubsub_topic.next_visit.id
      "raw-arrived"         = google_pubsub_topic.raw_arrived.id
      "alert-batches"       = google_pubsub_topic.alert_batches.id
      "alerts"              = google_pubsub_topic.alerts.id
      "filtered-alerts"     = google_pubsub_topic.filtered_alerts.id
      "template-candidates" = google_pubsub_topic.template_candidates.id
    },
    { for k, v in local.pubsub_functions : "${v.topic}-dead-letter" => google_pubsub_topic.dead_letter[k].id },
  )
}

resource "google_service_account" "fn" {
  for_each     = local.function_names
  account_id   = "${each.value}-sa"
  display_name = "Runs Cloud Function ${each.value} (${each.key})"
  depends_on   = [google_project_service.apis]
}

resource "google_service_account" "pusher" {
  account_id   = "ap-pubsub-pusher"
  display_name = "Identity of Pub/Sub push deliveries to the functions"
  depends_on   = [google_project_service.apis]
}

resource "google_storage_bucket_iam_member" "fn" {
  for_each = { for g in local.bucket_grants : "${g[0]}/${g[1]}/${g[2]}" => g }
  bucket   = local.buckets[each.value[1]]
  role     = each.value[2]
  member   = "serviceAccount:${google_service_account.fn[each.value[0]].email}"
}

resource "google_pubsub_topic_iam_member" "fn" {
  for_each = { for g in local.topic_grants : "${g[0]}/${g[1]}/${g[2]}" => g }
  topic    = local.topics[each.value[1]]
  role     = each.value[2]
  member   = "serviceAccount:${google_service_account.fn[each.value[0]].email}"
}

resource "google_project_iam_member" "fn" {
  for_each = { for g in local.project_grants : "${g[0]}/${g[1]}" => g }
  project  = var.project
  role     = each.value[1]
  member   = "serviceAccount:${google_service_account.fn[each.value[0]].email}"
}

# Pub/Sub's service agent mints the OIDC tokens of push deliveries as the pusher account.
resource "google_service_account_iam_member" "pubsub_mints_pusher_tokens" {
  service_account_id = google_service_account.pusher.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

# The observatory's scheduler publishes next_visit notices; the camera writes raw images.
resource "google_pubsub_topic_iam_member" "scheduler_publishes_next_visit" {
  for_each = toset(var.next_visit_publishers)
  topic    = google_pubsub_topic.next_visit.id
  role     = "roles/pubsub.publisher"
  member   = each.value
}

resource "google_storage_bucket_iam_member" "camera_writes_raw" {
  for_each = toset(var.camera_writers)
  bucket   = google_storage_bucket.raw.name
  role     = "roles/storage.objectCreator"
  member   = each.value
}
