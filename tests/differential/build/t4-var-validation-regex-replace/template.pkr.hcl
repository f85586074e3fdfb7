variable "ver" {
  type    = string
  default = "1.2.3"
  validation {
    condition     = regex_replace(var.ver, "^[0-9]+\\.[0-9]+\\.[0-9]+$", "") == ""
    error_message = "The ver must be semver."
  }
}
variable "env" {
  type    = string
  default = "prod"
  validation {
    condition     = contains(["dev", "prod"], var.env) && can(var.env)
    error_message = "The env must be dev or prod."
  }
}
source "file" "out" {
  target  = "out.txt"
  content = "${var.ver} ${var.env}\n"
}
build {
  sources = ["source.file.out"]
}
