variable "project" {
  description = "Google Cloud project id to deploy into."
  type        = string
}

variable "region" {
  description = "Region for functions, buckets and the Firestore database."
  type        = string
  default     = "us-central1"
}

variable "prefix" {
  description = "Name prefix of the buckets (<prefix>-raw, <prefix>-templates, <prefix>-alerts, <prefix>-work, <prefix>-orbits, <prefix>-refcats); globally unique."
  type        = string
}

variable "broker_principals" {
  description = "Community brokers allowed to subscribe to alerts: map of broker name to IAM member (e.g. \"serviceAccount:fink@example.iam.gserviceaccount.com\"). Each gets its own subscription."
  type        = map(string)
  default     = {}
}

variable "broker_exactly_once" {
  description = "Exactly-once delivery on the broker subscriptions: an acknowledged alert is not delivered again within the subscription (brokers' clients must then ack with response; acks take longer). Alerts republished after a retried fan-out keep their diaSourceId, so brokers still de-duplicate by it."
  type        = bool
  default     = false
}

variable "broker_filters" {
  description = "Optional server-side Pub/Sub filter per broker name, on the alert attributes; filters compare strings only (=, !=, hasPrefix, AND, OR, NOT), e.g. \"attributes.snrBin = \\\"10\\\" OR attributes.snrBin = \\\"20\\\"\". Changing one replaces that broker's subscription (and drops its backlog)."
  type        = map(string)
  default     = {}
}

variable "process_image_memory" {
  description = "Memory of processImage, one instance per detector image (a 4k x 4k detector needs about 4 GiB)."
  type        = string
  default     = "8Gi"
}

variable "process_image_cpu" {
  description = "vCPUs of processImage (worker threads split the image)."
  type        = string
  default     = "4"
}

variable "process_image_max_instances" {
  description = "Maximum concurrent processImage instances: one per detector of a visit (189 science detectors for LSSTCam)."
  type        = number
  default     = 200
}

variable "process_image_min_instances" {
  description = "Instances kept warm between visits; nextVisit warms more before each visit."
  type        = number
  default     = 0
}

variable "function_timeout_seconds" {
  description = "Timeout of the Pub/Sub-driven functions, seconds (also the push subscriptions' ack deadline, capped at 600)."
  type        = number
  default     = 300
}

variable "raw_retention_days" {
  description = "Days raw images stay in the raw bucket before the lifecycle rule deletes them."
  type        = number
  default     = 30
}

variable "alert_retention_days" {
  description = "Days broker subscriptions retain unacknowledged alerts (max 7)."
  type        = number
  default     = 7
}

variable "max_delivery_attempts" {
  description = "Deliveries of one event before it goes to the dead-letter topic (5 to 100)."
  type        = number
  default     = 5
}

variable "firestore_location" {
  description = "Location of the Firestore (APDB) database; a multi-region such as nam5 or a region."
  type        = string
  default     = "nam5"
}

variable "next_visit_publishers" {
  description = "Principals of the observatory's scheduler, allowed to publish next_visit notices (topic and HTTP form)."
  type        = list(string)
  default     = []
}

variable "camera_writers" {
  description = "Principals that write raw images into the raw bucket (the camera's transfer service)."
  type        = list(string)
  default     = []
}

variable "destroy_alert_archive" {
  description = "Whether `terraform destroy` may delete the alert archive bucket with all its alerts (false: destroy fails while it holds objects)."
  type        = bool
  default     = false
}

variable "pipeline_config" {
  description = "Pipeline configuration override, JSON (docs/contracts.md), e.g. \"{\\\"detect\\\": {\\\"threshold\\\": 5.5}}\"; empty for the defaults. Set into AP_PIPELINE_CONFIG and validated at each instance's start: an invalid setting fails the deploy with one line naming it."
  type        = string
  default     = ""
  validation {
    condition     = var.pipeline_config == "" || can(jsondecode(var.pipeline_config))
    error_message = "pipeline_config must be empty or a JSON object."
  }
}

variable "template_config" {
  description = "Template knobs, JSON (shared/template/config.ts, docs/contracts.md), e.g. \"{\\\"minInputs\\\": 5}\"; empty for the defaults. Set into AP_TEMPLATE_CONFIG and validated at each instance's start."
  type        = string
  default     = ""
  validation {
    condition     = var.template_config == "" || can(jsondecode(var.template_config))
    error_message = "template_config must be empty or a JSON object."
  }
}

variable "template_min_candidates" {
  description = "Candidates a template tile collects before its first build (earliest templates against cleaner ones); 0: the template knob minInputs. Set into AP_TEMPLATE_MIN_CANDIDATES."
  type        = number
  default     = 0
  validation {
    condition     = var.template_min_candidates >= 0 && floor(var.template_min_candidates) == var.template_min_candidates
    error_message = "template_min_candidates must be a non-negative integer."
  }
}

variable "template_min_tile_overlap" {
  description = "Smallest overlap of an image with a template tile, as a share of the smaller of the two, for the image to count as one of the tile's candidates (a detector's slivers on neighbouring tiles do not); empty: the default 0.2 (shared/template/candidates.ts). Set into AP_TEMPLATE_MIN_TILE_OVERLAP."
  type        = string
  default     = ""
  validation {
    condition     = var.template_min_tile_overlap == "" || (can(tonumber(var.template_min_tile_overlap)) && try(tonumber(var.template_min_tile_overlap) >= 0 && tonumber(var.template_min_tile_overlap) <= 1, false))
    error_message = "template_min_tile_overlap must be empty or a number in [0, 1]."
  }
}

variable "template_operators" {
  description = "Principals (\"user:ops@example.org\") allowed to call templateApi: list tiles and release a new template version."
  type        = list(string)
  default     = []
}
