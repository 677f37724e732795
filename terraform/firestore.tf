# The APDB: Firestore in native mode, with the composite indexes of its history queries.

# The APDB is the survey's history: `terraform destroy` must never delete it. ABANDON removes it
# from the state only, and delete protection refuses a delete from anywhere else too. Its location
# is fixed at creation (changing var.firestore_location would force a replacement, which the
# protection refuses). An existing (default) database is imported, not created: terraform/README.md.
resource "google_firestore_database" "apdb" {
  name                    = "(default)"
  location_id             = var.firestore_location
  type                    = "FIRESTORE_NATIVE"
  deletion_policy         = "ABANDON"
  delete_protection_state = "DELETE_PROTECTION_ENABLED"
  depends_on              = [google_project_service.apis]
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
