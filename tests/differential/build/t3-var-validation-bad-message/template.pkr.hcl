variable "x" {
  type    = string
  default = "a"
  validation {
    condition     = var.x != ""
    error_message = "must not be empty"
  }
}
source "file" "out" {
  content = "${var.x}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
