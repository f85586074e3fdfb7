variable "name" {
  type    = string
  default = "Web01"
  validation {
    condition     = length(var.name) > 2
    error_message = "The name must be longer than 2."
  }
  validation {
    condition     = lower(var.name) == var.name
    error_message = "The name must be lower case."
  }
}
source "file" "out" {
  target  = "out.txt"
  content = "${var.name}\n"
}
build {
  sources = ["source.file.out"]
}
