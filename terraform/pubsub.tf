# Topics of docs/contracts.md (next-visit, raw-arrived, alerts), the internal alert-batches
# topic between processImage and alertFanout, and a dead-letter topic per function subscription.

locals {
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "next_visit" {
  name                       = "next-visit"
  message_retention_duration = "86400s"
  depends_on                 = [google_project_service.apis]
}

resource "google_pubsub_topic" "raw_arrived" {
  name                       = "raw-arrived"
  message_retention_duration = "86400s"
  depends_on                 = [google_project_service.apis]
}

resource "google_pubsub_topic" "alert_batches" {
  name                       = "alert-batches"
  message_retention_duration = "86400s"
  depends_on                 = [google_project_service.apis]
}

resource "google_pubsub_topic" "alerts" {
  name                       = "alerts"
  message_retention_duration = "604800s"
  depends_on                 = [google_project_service.apis]
}

# processImage offers each processed (or template-less) image to templateBuilder.
resource "google_pubsub_topic" "template_candidates" {
  name                       = "template-candidates"
  message_retention_duration = "86400s"
  depends_on                 = [google_project_service.apis]
}

resource "google_pubsub_topic" "dead_letter" {
  for_each   = local.pubsub_functions
  name       = "${each.value.topic}-dead-letter"
  depends_on = [google_project_service.apis]
}

# Operators read dead letters (with the reason attribute) from these.
resource "google_pubsub_subscription" "dead_letter" {
  for_each                   = local.pubsub_functions
  name                       = "${each.value.topic}-dead-letter"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  message_retention_duration = "604800s"
  expiration_policy {
    ttl = ""
  }
}

# One push subscription per Pub/Sub-driven function, with retry backoff and a dead-letter policy
# (Eventarc's managed subscriptions cannot carry a dead-letter policy, so we own the subscription).
resource "google_pubsub_subscription" "function" {
  for_each             = local.pubsub_functions
  name                 = "${each.value.topic}-to-${local.function_names[each.key]}"
  topic                = each.value.topic_id
  ack_deadline_seconds = min(var.function_timeout_seconds, 600)

  push_config {
    # The functions framework turns a Pub/Sub push body into a CloudEvent; the path names the topic.
    push_endpoint = "${google_cloudfunctions2_function.fn[each.key].service_config[0].uri}/projects/${var.project}/topics/${each.value.topic}"
    oidc_token {
      service_account_email = google_service_account.pusher.email
    }
  }

  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }
}

# Pub/Sub's service agent forwards undeliverable messages and acknowledges them at the source.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.pubsub_functions
  topic    = google_pubsub_topic.dead_letter[each.key].id
  role     = "roles/pubsub.publisher"
  member   = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each     = local.pubsub_functions
  subscription = google_pubsub_subscription.function[each.key].id
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# One subscription per broker on the alerts topic, readable by that broker only.
resource "google_pubsub_subscription" "broker" {
  for_each                   = var.broker_principals
  name                       = "alerts-${each.key}"
  topic                      = google_pubsub_topic.alerts.id
  ack_deadline_seconds       = 60
  message_retention_duration = "${var.alert_retention_days * 86400}s"
  filter                     = lookup(var.broker_filters, each.key, "")

  # Optional (broker_exactly_once); the 60 s ack deadline above is exactly-once delivery's minimum.
  enable_exactly_once_delivery = var.broker_exactly_once

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription_iam_member" "broker" {
  for_each     = var.broker_principals
  subscription = google_pubsub_subscription.broker[each.key].id
  role         = "roles/pubsub.subscriber"
  member       = each.value
}

# Brokers may fetch alerts and schemas from the archive.
resource "google_storage_bucket_iam_member" "broker_archive_reader" {
  for_each = var.broker_principals
  bucket   = google_storage_bucket.alerts.name
  role     = "roles/storage.objectViewer"
  member   = each.value
}
