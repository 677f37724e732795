terraform {
  required_version = ">= 1.5"
  required_providers {
    # 7.x is the current major; 6.x is admitted for deployments not yet upgraded.
    google = {
      source  = "hashicorp/google"
      version = ">= 6.0, < 8.0"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4"
    }
  }
}

provider "google" {
  project = var.project
  region  = var.region
}
