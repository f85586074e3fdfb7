# Kiln's quickstart: a real build that needs nothing but Kiln itself.
# The file builder makes the artifact; post-processors record, checksum and compress it.
packer {
  required_version = ">= 1.7.0"
}

variable "greeting" {
  type        = string
  default     = "Hello from Kiln"
  description = "What the artifact says."
}

locals {
  out = "${path.root}/output"
}

source "file" "motd" {
  content = "${var.greeting}, built ${formatdate("YYYY-MM-DD", timestamp())}\n"
  target  = "${local.out}/motd.txt"
}

build {
  sources = ["source.file.motd"]

  post-processor "manifest" {
    output     = "${local.out}/manifest.json"
    strip_path = true
  }

  post-processor "checksum" {
    checksum_types = ["sha256"]
    output         = "${local.out}/{{.BuildName}}.{{.ChecksumType}}"
  }

  post-processors {
    post-processor "compress" {
      output              = "${local.out}/motd.tar.gz"
      keep_input_artifact = true
    }
    post-processor "shell-local" {
      inline = ["echo \"Artifact written: $PACKER_ARTIFACT_ID\""]
    }
  }
}
