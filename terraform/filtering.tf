# The alert filtering service (shared/filter/README.md): users' filter matches go to one topic,
# filtered-alerts, with a filterId attribute; each filter's stream is a subscription on it with
# the server-side filter attributes.filterId = "<id>", created by filterApi and readable by the
# filter's owner only. filterApi is invoked by the principals in var.filter_users.

variable "filter_users" {
  description = "Principals allowed to call the filter API (e.g. \"user:jane@example.org\", \"group:brokers@example.org\")."
  type        = set(string)
  default     = []
}

resource "google_pubsub_topic" "filtered_alerts" {
  name                       = "filtered-alerts"
  message_retention_duration = "604800s"
  depends_on                 = [google_project_service.apis]
}

# Only what filterApi does with streams: create and delete subscriptions on filtered-alerts and set
# their owner as subscriber. Subscription creation is checked on the project, so the role is
# granted there (iam.tf); attaching to a topic is checked on the topic.
resource "google_project_iam_custom_role" "filter_streams" {
  role_id     = "apFilterStreams"
  title       = "Alert filter streams"
  description = "Create and delete per-filter subscriptions on filtered-alerts and grant their owners."
  permissions = [
    "pubsub.subscriptions.create",
    "pubsub.subscriptions.delete",
    "pubsub.subscriptions.get",
    "pubsub.subscriptions.getIamPolicy",
    "pubsub.subscriptions.setIamPolicy",
    "pubsub.topics.attachSubscription",
  ]
}

resource "google_cloud_run_service_iam_member" "users_invoke_filter_api" {
  for_each = var.filter_users
  location = var.region
  service  = google_cloudfunctions2_function.fn["filterApi"].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value
}

# Each filter's matches per visit, counted by all filterAlerts instances together for the quota
# (FilterMatchCount, shared/adapters/filter-store.ts), are deleted by Firestore two days on.
resource "google_firestore_field" "filter_match_count_ttl" {
  database   = google_firestore_database.apdb.name
  collection = "FilterMatchCount"
  field      = "expireAt"
  ttl_config {}
}
