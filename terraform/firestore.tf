# The APDB: Firestore in native mode, with the composite indexes of its history queries.

resource "google_firestore_database" "apdb" {
  name        = "(default)"
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"
  depends_on  = [google_project_service.apis]
}

locals {
  # Collection -> fields of a composite index (equality field first, then the range field).
  apdb_indexes = {
    diaSources_object_time       = { collection = "DiaSource", fields = ["diaObjectId", "midpointMjdTai"] }
    diaForcedSources_object_time = { collection = "DiaForcedSource", fields = ["diaObjectId", "midpointMjdTai"] }
  }
}

resource "google_firestore_index" "apdb" {
  for_each   = local.apdb_indexes
  database   = google_firestore_database.apdb.name
  collection = each.value.collection

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value
      order      = "ASCENDING"
    }
  }
}
