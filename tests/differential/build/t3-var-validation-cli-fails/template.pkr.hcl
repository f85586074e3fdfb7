variable "cidr" {
  type    = string
  default = "10.0.0.0/16"
  validation {
    condition     = can(cidrnetmask(var.cidr))
    error_message = "The cidr value must be a CIDR block."
  }
}
variable "env" {
  type    = string
  default = "prod"
  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "The env must be dev or prod."
  }
  validation {
    condition     = length(var.env) <= 4
    error_message = "The env must be short."
  }
}
source "file" "out" {
  content = "${var.cidr} ${cidrnetmask(var.cidr)} ${var.env}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
