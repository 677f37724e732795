output "topics" {
  description = "Pub/Sub topics by role."
  value = {
    next_visit    = google_pubsub_topic.next_visit.name
    raw_arrived   = google_pubsub_topic.raw_arrived.name
    alert_batches = google_pubsub_topic.alert_batches.name
    alerts        = google_pubsub_topic.alerts.name
    dead_letter   = { for k, t in google_pubsub_topic.dead_letter : k => t.name }
  }
}

output "buckets" {
  description = "Bucket names by role."
  value       = local.buckets
}

output "broker_subscriptions" {
  description = "The alerts subscription of each broker."
  value       = { for k, s in google_pubsub_subscription.broker : k => s.id }
}

output "next_visit_url" {
  description = "HTTP endpoint of nextVisitHttp (POST a NextVisit JSON body)."
  value       = google_cloudfunctions2_function.fn["nextVisitHttp"].service_config[0].uri
}

output "alert_archive_url" {
  description = "HTTP endpoint of the alert archive (GET /v1/alerts/{id}, /v1/schemas/{id})."
  value       = google_cloudfunctions2_function.fn["alertArchive"].service_config[0].uri
}

output "client_environment" {
  description = "What a client sets to use this deployment, the cloud equivalent of the emulator variables."
  value = {
    GOOGLE_CLOUD_PROJECT = var.project
    AP_BUCKET_PREFIX     = var.prefix
    AP_ALERTS_TOPIC      = google_pubsub_topic.alerts.id
    AP_ARCHIVE_URL       = google_cloudfunctions2_function.fn["alertArchive"].service_config[0].uri
  }
}
